# What is set per deployment (tfvars or the CLI). The environment's sizing is in main.tf; every
# other setting is a default of terraform/modules/platform/variables.tf.

variable "region" {
  description = "AWS region of the stack."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name in this environment."
  type        = string
  default     = "ecomm-prod"
}

variable "build_dir" {
  description = "Folder where the CLI puts the built alerting-lambda.zip and flink-app.zip before plan."
  type        = string
}

variable "flink_connector_jar" {
  description = "Path inside the Flink zip of the Kinesis SQL connector jar (it cannot be bundled offline); null leaves it out."
  type        = string
  default     = null
  nullable    = true
}

variable "alert_email" {
  description = "E-mail address subscribed to the alerts topic; null for none."
  type        = string
  default     = null
  nullable    = true
}

variable "lambda_layers" {
  description = "Layer ARNs of the alerting Lambda: the Powertools for AWS Lambda (Python) layer of the region (the zip holds only the project's code)."
  type        = list(string)
  default     = []
}

variable "enable_quicksight" {
  description = "Create the QuickSight data source and data sets (needs a QuickSight subscription)."
  type        = bool
  default     = false
}

variable "quicksight_principal_arn" {
  description = "QuickSight user or group ARN that owns the data source and data sets; null grants none."
  type        = string
  default     = null
  nullable    = true
}

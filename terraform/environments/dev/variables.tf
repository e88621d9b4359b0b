# What is set per deployment (tfvars or the CLI). The environment's sizing is in main.tf; every
# other setting is a default of terraform/modules/platform/variables.tf.

variable "region" {
  description = "AWS region of the stack."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name in this environment."
  type        = string
  default     = "ecomm-dev"
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

variable "powertools_layer_arn" {
  description = "Powertools layer ARN to use instead of AWS's public layer of the pinned release in this region (lambdas/powertools_layer.json); null for AWS's."
  type        = string
  default     = null
  nullable    = true
}

variable "force_destroy" {
  description = "Let `ecomm destroy` delete the non-empty, versioned buckets and the Athena workgroup with its query history (true in dev; in prod set it only to tear down, see the README)."
  type        = bool
  default     = true
}

variable "start_flink_application" {
  description = "Start the Managed Flink application after creating or updating it (false leaves it created but stopped)."
  type        = bool
  default     = true
}

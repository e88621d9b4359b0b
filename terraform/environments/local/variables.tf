# What is set per deployment (tfvars or the CLI). The environment's sizing is in main.tf; every
# other setting is a default of terraform/modules/platform/variables.tf.

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name in this environment."
  type        = string
  default     = "ecomm-local"
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

variable "name_prefix" {
  description = "Prefix of every resource name (for example `ecomm-dev`); lowercase letters, digits and hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the stream, the delivered objects and the delivery logs (the lake module's key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "raw_bucket_arn" {
  description = "ARN of the raw-zone bucket Firehose delivers to (the lake module's raw_bucket_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.raw_bucket_arn))
    error_message = "raw_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "stream_mode" {
  description = "Capacity mode of the events stream: PROVISIONED (shard_count shards) or ON_DEMAND (scales by itself, billed per GB)."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.stream_mode)
    error_message = "stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "shard_count" {
  description = "Shards of the events stream when stream_mode is PROVISIONED (1 shard = 1 MB/s or 1000 records/s in). Ignored when ON_DEMAND."
  type        = number
  default     = 1

  validation {
    condition     = var.shard_count >= 1 && var.shard_count <= 500 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be a whole number between 1 and 500."
  }
}

variable "retention_period_hours" {
  description = "How long the events stream keeps records (hours). 24 is the free minimum; longer lets consumers catch up after an outage."
  type        = number
  default     = 24

  validation {
    condition     = var.retention_period_hours >= 24 && var.retention_period_hours <= 8760 && floor(var.retention_period_hours) == var.retention_period_hours
    error_message = "retention_period_hours must be a whole number between 24 and 8760."
  }
}

variable "buffering_size_mb" {
  description = "Firehose buffer size in MiB before an object is written to the raw zone."
  type        = number
  default     = 64

  validation {
    condition     = var.buffering_size_mb >= 1 && var.buffering_size_mb <= 128 && floor(var.buffering_size_mb) == var.buffering_size_mb
    error_message = "buffering_size_mb must be a whole number between 1 and 128."
  }
}

variable "buffering_interval_seconds" {
  description = "Firehose buffer interval in seconds before an object is written to the raw zone (whichever of size or interval comes first)."
  type        = number
  default     = 300

  validation {
    condition     = var.buffering_interval_seconds >= 0 && var.buffering_interval_seconds <= 900 && floor(var.buffering_interval_seconds) == var.buffering_interval_seconds
    error_message = "buffering_interval_seconds must be a whole number between 0 and 900."
  }
}

variable "log_retention_days" {
  description = "Retention of the Firehose delivery log group, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "tags" {
  description = "Extra tags for the module's resources (the provider's default_tags apply as well)."
  type        = map(string)
  default     = {}
}

variable "environment" {
  description = "Name of the environment calling the module: local, dev or prod."
  type        = string

  validation {
    condition     = contains(["local", "dev", "prod"], var.environment)
    error_message = "environment must be local, dev or prod."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty, versioned buckets and the Athena workgroup with its query history (on in local and dev; in prod only to tear down)."
  type        = bool
  default     = false
}

variable "kms_deletion_window_in_days" {
  description = "Days a deleted KMS key can still be recovered (7-30)."
  type        = number
  default     = 30
}

variable "start_flink_application" {
  description = "Start the Flink application after creating it (the emulator stores it but cannot run it)."
  type        = bool
  default     = true
}

variable "region" {
  description = "AWS region of the stack."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name in this environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "build_dir" {
  description = "Folder where the CLI puts the built alerting-lambda.zip and flink-app.zip before plan."
  type        = string
}

variable "raw_expiration_days" {
  description = "Age in days after which raw objects are deleted; null keeps them forever."
  type        = number
  default     = 90
  nullable    = true
}

variable "events_stream_mode" {
  description = "Capacity mode of the events stream: PROVISIONED or ON_DEMAND."
  type        = string
  default     = "PROVISIONED"

  validation {
    condition     = contains(["PROVISIONED", "ON_DEMAND"], var.events_stream_mode)
    error_message = "events_stream_mode must be PROVISIONED or ON_DEMAND."
  }
}

variable "events_shard_count" {
  description = "Shards of the events stream when PROVISIONED."
  type        = number
  default     = 1
}

variable "events_retention_hours" {
  description = "Retention of the events stream in hours (24-8760)."
  type        = number
  default     = 24
}

variable "firehose_buffering_size_mb" {
  description = "Firehose buffer size in MiB (1-128)."
  type        = number
  default     = 64
}

variable "firehose_buffering_interval_seconds" {
  description = "Firehose buffer interval in seconds (0-900)."
  type        = number
  default     = 300
}

variable "log_retention_days" {
  description = "Retention of the Firehose delivery log group, in days (a CloudWatch Logs retention value)."
  type        = number
  default     = 365
}

variable "glue_worker_type" {
  description = "Glue worker type of the curation job."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X"], var.glue_worker_type)
    error_message = "glue_worker_type must be one of G.1X, G.2X, G.4X, G.8X."
  }
}

variable "glue_number_of_workers" {
  description = "Number of Glue workers of the curation job (2-299)."
  type        = number
  default     = 2
}

variable "glue_schedule" {
  description = "Glue cron expression of the scheduled curation run; null for none."
  type        = string
  default     = null
  nullable    = true
}

variable "create_data_quality_ruleset" {
  description = "Create the Glue Data Quality ruleset (the event contract) over the curated events table."
  type        = bool
  default     = true
}

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Bytes a single Athena query may scan before it is cancelled."
  type        = number
  default     = 10737418240
}

variable "anomalies_shard_count" {
  description = "Shards of the anomalies stream."
  type        = number
  default     = 1
}

variable "create_flink_application" {
  description = "Create the Managed Service for Apache Flink application."
  type        = bool
  default     = true
}

variable "flink_parallelism" {
  description = "Parallelism of the Flink application (KPUs)."
  type        = number
  default     = 1
}

variable "flink_connector_jar" {
  description = "Path inside the Flink zip of the Kinesis SQL connector jar (it cannot be bundled offline); null leaves it out."
  type        = string
  default     = null
  nullable    = true
}

variable "rules" {
  description = "Overrides of the rules manifest's parameters (sql/realtime/rules.json) for this environment, by manifest name; the realtime module checks names and bounds."
  type        = map(number)
  default     = {}
  nullable    = false
}

variable "block_seconds" {
  description = "Overrides of how long an offender of each rule is blocked, in seconds, by rule name (0: alert only); unset rules take the rules manifest's `block`. The realtime module checks names and bounds."
  type        = map(number)
  default     = {}
  nullable    = false
}

variable "alert_cooldown_seconds" {
  description = "Seconds between two alerts about the same offender; null takes the rules manifest's."
  type        = number
  default     = null
  nullable    = true
}

variable "offenders_ttl_days" {
  description = "Days an offender item lives in DynamoDB."
  type        = number
  default     = 30
}

variable "alert_email" {
  description = "E-mail address subscribed to the alerts topic; null for none."
  type        = string
  default     = null
  nullable    = true
}

variable "lambda_batch_size" {
  description = "Records per Lambda invocation from the anomalies stream."
  type        = number
  default     = 100
}

variable "lambda_maximum_batching_window_seconds" {
  description = "Seconds the event source mapping waits to fill a batch."
  type        = number
  default     = 1
}

variable "lambda_maximum_retry_attempts" {
  description = "Retries of a failing batch before it goes to the dead-letter queue."
  type        = number
  default     = 3
}

variable "lambda_maximum_record_age_seconds" {
  description = "Records older than this go to the dead-letter queue instead of being retried."
  type        = number
  default     = 3600
}

variable "lambda_parallelization_factor" {
  description = "Concurrent batches per shard of the anomalies stream (1-10)."
  type        = number
  default     = 1
}

variable "curated_max_age_hours" {
  description = "Where curation is scheduled (glue_schedule), the heartbeat alarm fires when no successful run has reported for this many hours."
  type        = number
  default     = 26
}

variable "attach_powertools_layer" {
  description = "Attach the Powertools for AWS Lambda (Python) layer to the alerting Lambda (off locally: the emulator holds no AWS layer, and the local runner runs the handler in-process)."
  type        = bool
  default     = true
}

variable "powertools_layer_arn" {
  description = "Powertools layer to use instead of AWS's public one for the pinned release (a private copy, or China/GovCloud, where AWS publishes under other accounts); null builds the ARN from the region and lambdas/powertools_layer.json."
  type        = string
  default     = null
  nullable    = true

  validation {
    condition     = var.powertools_layer_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.powertools_layer_arn))
    error_message = "powertools_layer_arn must be null or a versioned Lambda layer ARN."
  }
}

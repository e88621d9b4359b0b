variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"ecomm-dev\" (lowercase letters, digits and hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "alerts_topic_arn" {
  description = "ARN of the SNS alerts topic (from the realtime module) that every alarm and the Glue failure rule notify."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alerts_topic_arn))
    error_message = "alerts_topic_arn must be an SNS topic ARN."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform KMS key that encrypts the alerts topic; its key policy must let cloudwatch.amazonaws.com and events.amazonaws.com use it (see the output kms_service_principals)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "events_stream_name" {
  description = "Name of the `events` Kinesis stream (write throttles, iterator age)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.events_stream_name))
    error_message = "events_stream_name must be 1-128 characters of letters, digits, '_', '.' or '-'."
  }
}

variable "anomalies_stream_name" {
  description = "Name of the `anomalies` Kinesis stream (shown on the dashboard)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.anomalies_stream_name))
    error_message = "anomalies_stream_name must be 1-128 characters of letters, digits, '_', '.' or '-'."
  }
}

variable "lambda_function_name" {
  description = "Name of the alerting Lambda function (errors)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.lambda_function_name))
    error_message = "lambda_function_name must be 1-64 characters of letters, digits, '_' or '-'."
  }
}

variable "dlq_name" {
  description = "Name of the SQS queue that receives failed anomaly batches (depth)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,80}$", var.dlq_name))
    error_message = "dlq_name must be 1-80 characters of letters, digits, '_' or '-'."
  }
}

variable "flink_application_name" {
  description = "Name of the Managed Flink application (downtime); null when there is none (the local stack)."
  type        = string
  default     = null

  validation {
    condition     = var.flink_application_name == null || can(regex("^[a-zA-Z0-9_.-]{1,128}$", coalesce(var.flink_application_name, "-")))
    error_message = "flink_application_name must be null or 1-128 characters of letters, digits, '_', '.' or '-'."
  }
}

variable "firehose_name" {
  description = "Name of the Firehose delivery stream into the raw zone (delivery success); null when there is none."
  type        = string
  default     = null

  validation {
    condition     = var.firehose_name == null || can(regex("^[a-zA-Z0-9_.-]{1,64}$", coalesce(var.firehose_name, "-")))
    error_message = "firehose_name must be null or 1-64 characters of letters, digits, '_', '.' or '-'."
  }
}

variable "glue_job_name" {
  description = "Name of the Glue ETL job (a failed, timed-out or errored run notifies the topic); null when there is none."
  type        = string
  default     = null

  validation {
    condition     = var.glue_job_name == null || can(regex("^[a-zA-Z0-9_.-]{1,255}$", coalesce(var.glue_job_name, "-")))
    error_message = "glue_job_name must be null or 1-255 characters of letters, digits, '_', '.' or '-'."
  }
}

variable "curation_scheduled" {
  description = "The Glue job runs on a schedule: only then does the curation heartbeat alarm exist (on-demand runs have no rhythm to miss)."
  type        = bool
  default     = false
}

variable "curated_max_age_hours" {
  description = "The curation heartbeat alarm fires when no successful run has reported CurationSucceeded for this many hours (1-168)."
  type        = number
  default     = 26

  validation {
    # Hourly periods: CloudWatch evaluates at most 7 days (168 periods of an hour).
    condition     = var.curated_max_age_hours >= 1 && var.curated_max_age_hours <= 168 && floor(var.curated_max_age_hours) == var.curated_max_age_hours
    error_message = "curated_max_age_hours must be a whole number of hours between 1 and 168."
  }
}

variable "metric_namespace" {
  description = "CloudWatch namespace of the platform's own metrics (the Lambda's EMF metrics, the ETL's CurationSucceeded heartbeat)."
  type        = string
  default     = "ecomm"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metric_namespace)) && !startswith(var.metric_namespace, "AWS/")
    error_message = "metric_namespace must be 1-255 characters of letters, digits and ._/#:- and must not start with AWS/."
  }
}

variable "alerting_service_name" {
  description = "The `service` dimension of the alerting Lambda's metrics (Powertools service name)."
  type        = string
  default     = "alerting"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,63}$", var.alerting_service_name))
    error_message = "alerting_service_name must be a lowercase identifier of at most 64 characters."
  }
}

variable "curated_dataset_name" {
  description = "The `Dataset` dimension of the ETL's CurationSucceeded heartbeat."
  type        = string
  default     = "events"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,63}$", var.curated_dataset_name))
    error_message = "curated_dataset_name must be a lowercase identifier of at most 64 characters."
  }
}

variable "thresholds" {
  description = "Alarm thresholds; every field is optional and keeps its default."
  type = object({
    events_write_throttles_per_minute = optional(number, 0)
    events_iterator_age_ms            = optional(number, 60000)
    lambda_errors_per_minute          = optional(number, 0)
    dlq_messages                      = optional(number, 0)
    offenders_per_minute              = optional(number, 50)
    firehose_delivery_success_ratio   = optional(number, 1)
    # Firehose delivers at least every buffering interval (300 s in dev and prod): three of them.
    firehose_data_freshness_seconds     = optional(number, 900)
    firehose_throttled_reads_per_minute = optional(number, 0)
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      var.thresholds.events_write_throttles_per_minute >= 0,
      var.thresholds.events_iterator_age_ms >= 1000,
      var.thresholds.lambda_errors_per_minute >= 0,
      var.thresholds.dlq_messages >= 0,
      var.thresholds.offenders_per_minute >= 1,
      var.thresholds.firehose_data_freshness_seconds >= 60,
      var.thresholds.firehose_throttled_reads_per_minute >= 0,
    ])
    error_message = "thresholds: counts must be non-negative, events_iterator_age_ms at least 1000, offenders_per_minute at least 1 and firehose_data_freshness_seconds at least 60."
  }

  validation {
    condition     = var.thresholds.firehose_delivery_success_ratio > 0 && var.thresholds.firehose_delivery_success_ratio <= 1
    error_message = "thresholds.firehose_delivery_success_ratio must be in (0, 1]."
  }
}

variable "evaluation_periods" {
  description = "Consecutive one-minute periods a metric must breach before its alarm fires (the curated-age alarm uses hours)."
  type        = number
  default     = 3

  validation {
    condition     = var.evaluation_periods >= 1 && var.evaluation_periods <= 60 && floor(var.evaluation_periods) == var.evaluation_periods
    error_message = "evaluation_periods must be a whole number between 1 and 60."
  }
}

variable "tags" {
  description = "Extra tags for the module's resources (the environments set the common ones through default_tags)."
  type        = map(string)
  default     = {}
  nullable    = false
}

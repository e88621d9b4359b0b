variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"ecomm-dev\" (lowercase letters, digits and hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform's customer-managed KMS key (from the lake module); encrypts the stream, table, topic, queue, logs and Lambda environment."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "artifacts_bucket_name" {
  description = "Name of the artifacts bucket the Flink application zip is uploaded to."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_name))
    error_message = "artifacts_bucket_name must be a valid S3 bucket name."
  }
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket (the Flink role reads its code from it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_arn))
    error_message = "artifacts_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::<bucket>)."
  }
}

variable "events_stream_arn" {
  description = "ARN of the `events` Kinesis stream the Flink application reads."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/.+$", var.events_stream_arn))
    error_message = "events_stream_arn must be a Kinesis stream ARN."
  }
}

variable "events_stream_name" {
  description = "Name of the `events` Kinesis stream (a runtime property of the Flink application)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.events_stream_name))
    error_message = "events_stream_name must be 1-128 characters of letters, digits, '_', '.' or '-'."
  }
}

variable "anomalies_shard_count" {
  description = "Shards of the `anomalies` stream (alerts are few; one shard carries 1,000 records/s)."
  type        = number
  default     = 1

  validation {
    condition     = var.anomalies_shard_count >= 1 && var.anomalies_shard_count <= 64 && floor(var.anomalies_shard_count) == var.anomalies_shard_count
    error_message = "anomalies_shard_count must be a whole number between 1 and 64."
  }
}

variable "anomalies_retention_hours" {
  description = "Retention of the `anomalies` stream in hours (24 to 8760); longer lets a broken Lambda catch up."
  type        = number
  default     = 24

  validation {
    condition     = var.anomalies_retention_hours >= 24 && var.anomalies_retention_hours <= 8760
    error_message = "anomalies_retention_hours must be between 24 and 8760."
  }
}

variable "lambda_zip_path" {
  description = "Path of the alerting Lambda zip built before plan (`ecomm plan` builds it from lambdas/)."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip") && fileexists(var.lambda_zip_path)
    error_message = "lambda_zip_path must name an existing .zip file: run `ecomm plan` (it builds the zips) or build them first."
  }
}

variable "flink_zip_path" {
  description = "Path of the Managed Flink application zip (main.py, sql/realtime/*.sql, lib/<connector>.jar); may be null when create_flink_application is false."
  type        = string
  default     = null

  validation {
    condition     = var.flink_zip_path == null || (endswith(coalesce(var.flink_zip_path, "-"), ".zip") && fileexists(coalesce(var.flink_zip_path, "-")))
    error_message = "flink_zip_path must be null or name an existing .zip file: run `ecomm plan` (it builds the zips) or build them first."
  }
}

variable "flink_connector_jar" {
  description = "Path inside the Flink zip of the Kinesis SQL connector jar (the `jarfile` run option, e.g. \"lib/flink-sql-connector-kinesis-5.0.0-1.20.jar\"); null leaves it out."
  type        = string
  default     = null

  validation {
    condition     = var.flink_connector_jar == null || can(regex("^[A-Za-z0-9_][A-Za-z0-9_./-]*\\.jar$", coalesce(var.flink_connector_jar, "-")))
    error_message = "flink_connector_jar must be null or a path inside the zip ending in .jar (e.g. lib/flink-sql-connector-kinesis-5.0.0-1.20.jar), not a path on this machine."
  }
}

variable "create_flink_application" {
  description = "Create the Managed Service for Apache Flink application (the local stack runs a local detector instead)."
  type        = bool
  default     = true
}

variable "start_flink_application" {
  description = "Run the Flink application after apply (the rules only run when it is started; the monitoring module's downtime alarm fires while it is stopped)."
  type        = bool
  default     = true
}

variable "flink_parallelism" {
  description = "Parallelism of the Flink application (one KPU per parallel task)."
  type        = number
  default     = 1

  validation {
    condition     = var.flink_parallelism >= 1 && var.flink_parallelism <= 64 && floor(var.flink_parallelism) == var.flink_parallelism
    error_message = "flink_parallelism must be a whole number between 1 and 64."
  }
}

variable "flink_log_level" {
  description = "Log level of the Flink application in CloudWatch Logs."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.flink_log_level)
    error_message = "flink_log_level must be one of DEBUG, INFO, WARN, ERROR."
  }
}

variable "rules_manifest_path" {
  description = "The rules manifest: every rule's window, thresholds and baseline with their defaults and bounds, and the shared settings (the Flink application and the local detector read the same file)."
  type        = string
  default     = null
  nullable    = true
}

variable "rules" {
  description = "Per-environment overrides of the manifest's rule parameters and Flink settings (watermark_seconds, idle_timeout_seconds), by their manifest names; each must be within the manifest's bounds."
  type        = map(number)
  default     = {}
  nullable    = false

  validation {
    condition     = length(setsubtract(keys(var.rules), keys(local.manifest_flink_parameters))) == 0
    error_message = "rules: unknown name(s) ${join(", ", setsubtract(keys(var.rules), keys(local.manifest_flink_parameters)))}; the manifest defines ${join(", ", sort(keys(local.manifest_flink_parameters)))}."
  }

  validation {
    # HCL does not short-circuit: null and unknown names are filtered out, not or-ed away.
    condition = alltrue([
      for name, value in var.rules :
      value >= local.manifest_flink_parameters[name].min &&
      value <= local.manifest_flink_parameters[name].max &&
      (local.manifest_flink_parameters[name].integer ? floor(value) == value : true)
      if value != null && contains(keys(local.manifest_flink_parameters), name)
    ])
    error_message = "rules: every value must be within its manifest bounds (and whole where the manifest says integer): ${join("; ", [for name, p in local.manifest_flink_parameters : "${name} ${p.min}-${p.max}" if contains(keys(var.rules), name)])}."
  }
}

variable "alert_cooldown_seconds" {
  description = "One SNS message per offender per this many seconds, across all rules (measured on the Lambda's clock); null takes the manifest's alert_cooldown_seconds."
  type        = number
  default     = null
  nullable    = true

  validation {
    condition     = var.alert_cooldown_seconds == null || try(var.alert_cooldown_seconds >= local.manifest.settings.alert_cooldown_seconds.min && var.alert_cooldown_seconds <= local.manifest.settings.alert_cooldown_seconds.max, false)
    error_message = "alert_cooldown_seconds must be null or within the manifest's bounds for alert_cooldown_seconds."
  }
}

variable "block_seconds" {
  description = "Per-environment overrides of how long an offender of each rule is blocked, in seconds, by rule name (0: alert only, never block); each must be a whole number within the manifest's `block` bounds of that rule. Unset rules take the manifest's value."
  type        = map(number)
  default     = {}
  nullable    = false

  validation {
    condition     = length(setsubtract(keys(var.block_seconds), keys(local.manifest_blocks))) == 0
    error_message = "block_seconds: unknown rule(s) ${join(", ", setsubtract(keys(var.block_seconds), keys(local.manifest_blocks)))}; the manifest's rules with a block are ${join(", ", sort(keys(local.manifest_blocks)))}."
  }

  validation {
    # HCL does not short-circuit: null and unknown names are filtered out, not or-ed away.
    condition = alltrue([
      for name, value in var.block_seconds :
      value >= local.manifest_blocks[name].min && value <= local.manifest_blocks[name].max && floor(value) == value
      if value != null && contains(keys(local.manifest_blocks), name)
    ])
    error_message = "block_seconds: every value must be a whole number of seconds within its rule's manifest bounds: ${join("; ", [for name, b in local.manifest_blocks : "${name} ${b.min}-${b.max}" if contains(keys(var.block_seconds), name)])}."
  }
}

variable "offenders_ttl_days" {
  description = "Days an offender item stays in DynamoDB before TTL removes it."
  type        = number
  default     = 30

  validation {
    condition     = var.offenders_ttl_days >= 1 && var.offenders_ttl_days <= 3650
    error_message = "offenders_ttl_days must be between 1 and 3650."
  }
}

variable "alert_email" {
  description = "E-mail address subscribed to the alerts topic; null for none (the subscription needs a manual confirmation)."
  type        = string
  default     = null

  validation {
    condition     = var.alert_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", coalesce(var.alert_email, "-")))
    error_message = "alert_email must be null or an e-mail address."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of the alerting Lambda: the Python of its Powertools layer (the platform module passes the one of lambdas/powertools_layer.json)."
  type        = string
  default     = "python3.13"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13 (runtimes Powertools v3 publishes layers for and the code is tested on)."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the alerting Lambda in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240
    error_message = "lambda_memory_mb must be between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Timeout of the alerting Lambda in seconds."
  type        = number
  default     = 60

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900
    error_message = "lambda_timeout_seconds must be between 1 and 900."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the alerting Lambda (null: none, the default). AWS refuses a reservation that leaves under 100 unreserved executions, so on a new account whose concurrency quota is 10 any value fails; when set, it must cover anomalies_shard_count x lambda_parallelization_factor."
  type        = number
  default     = null
  nullable    = true

  validation {
    condition     = var.lambda_reserved_concurrency == null || try(var.lambda_reserved_concurrency >= 1 && var.lambda_reserved_concurrency <= 1000, false)
    error_message = "lambda_reserved_concurrency must be null or between 1 and 1000."
  }
}

variable "lookup_memory_mb" {
  description = "Memory of the block lookup Lambda in MB (CPU grows with it: more memory, faster cold starts and answers)."
  type        = number
  default     = 256

  validation {
    condition     = var.lookup_memory_mb >= 128 && var.lookup_memory_mb <= 10240
    error_message = "lookup_memory_mb must be between 128 and 10240."
  }
}

variable "lookup_timeout_seconds" {
  description = "Timeout of the block lookup Lambda in seconds (the storefront fails open long before; keep it short)."
  type        = number
  default     = 3

  validation {
    condition     = var.lookup_timeout_seconds >= 1 && var.lookup_timeout_seconds <= 30
    error_message = "lookup_timeout_seconds must be between 1 and 30."
  }
}

variable "lookup_reserved_concurrency" {
  description = "Reserved concurrency of the block lookup Lambda (null: none, the default; AWS refuses a reservation that leaves under 100 unreserved executions)."
  type        = number
  default     = null
  nullable    = true

  validation {
    condition     = var.lookup_reserved_concurrency == null || try(var.lookup_reserved_concurrency >= 1 && var.lookup_reserved_concurrency <= 1000, false)
    error_message = "lookup_reserved_concurrency must be null or between 1 and 1000."
  }
}

variable "lambda_batch_size" {
  description = "Largest number of anomaly records per Lambda invocation."
  type        = number
  default     = 100

  validation {
    condition     = var.lambda_batch_size >= 1 && var.lambda_batch_size <= 10000
    error_message = "lambda_batch_size must be between 1 and 10000."
  }
}

variable "lambda_maximum_batching_window_seconds" {
  description = "Seconds the event source mapping waits to fill a batch (adds to alert latency)."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_maximum_batching_window_seconds >= 0 && var.lambda_maximum_batching_window_seconds <= 300
    error_message = "lambda_maximum_batching_window_seconds must be between 0 and 300."
  }
}

variable "lambda_maximum_retry_attempts" {
  description = "Retries of a failing batch before its records go to the DLQ queue (bounded: never -1)."
  type        = number
  default     = 3

  validation {
    condition     = var.lambda_maximum_retry_attempts >= 0 && var.lambda_maximum_retry_attempts <= 10000
    error_message = "lambda_maximum_retry_attempts must be between 0 and 10000 (unbounded retries block the shard)."
  }
}

variable "lambda_maximum_record_age_seconds" {
  description = "Records older than this go to the DLQ queue instead of the function (bounded: never -1)."
  type        = number
  default     = 3600

  validation {
    condition     = var.lambda_maximum_record_age_seconds >= 60 && var.lambda_maximum_record_age_seconds <= 604800
    error_message = "lambda_maximum_record_age_seconds must be between 60 and 604800."
  }
}

variable "lambda_parallelization_factor" {
  description = "Concurrent batches per shard of the anomalies stream."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_parallelization_factor >= 1 && var.lambda_parallelization_factor <= 10 && floor(var.lambda_parallelization_factor) == var.lambda_parallelization_factor
    error_message = "lambda_parallelization_factor must be a whole number between 1 and 10."
  }
}

variable "lambda_starting_position" {
  description = "Where the event source mapping starts reading the anomalies stream."
  type        = string
  default     = "TRIM_HORIZON"

  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST"], var.lambda_starting_position)
    error_message = "lambda_starting_position must be TRIM_HORIZON or LATEST."
  }
}

variable "lambda_layers" {
  description = "Layer ARNs of the alerting Lambda (on AWS the Powertools for AWS Lambda (Python) layer)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.lambda_layers) <= 5 && alltrue([for l in var.lambda_layers : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", l))])
    error_message = "lambda_layers must hold at most 5 versioned layer ARNs."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda and Flink log groups in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "metric_namespace" {
  description = "CloudWatch namespace of the Lambda's embedded-metric-format metrics (the monitoring module alarms on it)."
  type        = string
  default     = "ecomm"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metric_namespace)) && !startswith(var.metric_namespace, "AWS/")
    error_message = "metric_namespace must be 1-255 characters of letters, digits and ._/#:- and must not start with AWS/."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long failed anomaly batches stay in the DLQ queue."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "offenders_table_deletion_protection" {
  description = "Protect the offenders and mitigation tables from deletion (on in prod; off lets `destroy` clean a dev stack)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for the module's resources (the environments set the common ones through default_tags)."
  type        = map(string)
  default     = {}
  nullable    = false
}

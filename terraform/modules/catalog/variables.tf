variable "name_prefix" {
  description = "Prefix of every resource name (for example `ecomm-dev`); lowercase letters, digits and hyphens. The Glue database is the prefix with underscores."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "kms_key_arn" {
  description = "ARN of the lake's KMS key: the Glue security configuration encrypts job output, logs and bookmarks with it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "raw_bucket_name" {
  description = "Name of the raw-zone bucket (the lake module's raw_bucket_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.raw_bucket_name))
    error_message = "raw_bucket_name must be a valid S3 bucket name."
  }
}

variable "curated_bucket_name" {
  description = "Name of the curated-zone bucket (the lake module's curated_bucket_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.curated_bucket_name))
    error_message = "curated_bucket_name must be a valid S3 bucket name."
  }
}

variable "quarantine_bucket_name" {
  description = "Name of the quarantine bucket that receives rejected records with their reason."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.quarantine_bucket_name))
    error_message = "quarantine_bucket_name must be a valid S3 bucket name."
  }
}

variable "artifacts_bucket_name" {
  description = "Name of the artifacts bucket that holds the Glue script and the job's temporary files."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.artifacts_bucket_name))
    error_message = "artifacts_bucket_name must be a valid S3 bucket name."
  }
}

variable "raw_events_prefix" {
  description = "Key prefix of delivered events in the raw bucket, up to the ingest_date= partition (the static part of the ingest module's raw_prefix)."
  type        = string
  default     = "raw/events/"

  validation {
    condition     = can(regex("^([a-z0-9_-]+/)+$", var.raw_events_prefix))
    error_message = "raw_events_prefix must be lowercase path segments, each ending with a slash (for example raw/events/)."
  }
}

variable "projection_start_date" {
  description = "First date (yyyy-MM-dd) the raw_events table's ingest_date projection covers; the REES46 data starts in 2019-10."
  type        = string
  default     = "2019-10-01"

  validation {
    condition     = can(formatdate("YYYY-MM-DD", "${var.projection_start_date}T00:00:00Z"))
    error_message = "projection_start_date must be a date in yyyy-MM-dd form."
  }
}

variable "glue_script_path" {
  description = "Local path of the PySpark job script (glue/curate_events.py); uploaded to the artifacts bucket, re-uploaded when its content changes."
  type        = string

  validation {
    condition     = endswith(var.glue_script_path, ".py")
    error_message = "glue_script_path must name a Python (.py) file."
  }
}

variable "worker_type" {
  description = "Glue worker type (G.1X = 4 vCPU/16 GB; G.2X, G.4X, G.8X double each time)."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X"], var.worker_type)
    error_message = "worker_type must be one of G.1X, G.2X, G.4X, G.8X (the Spark worker types of Glue 5.0)."
  }
}

variable "number_of_workers" {
  description = "Number of Glue workers (one is the driver); the batch job's scaling knob."
  type        = number
  default     = 2

  validation {
    condition     = var.number_of_workers >= 2 && var.number_of_workers <= 299 && floor(var.number_of_workers) == var.number_of_workers
    error_message = "number_of_workers must be a whole number between 2 and 299."
  }
}

variable "job_timeout_minutes" {
  description = "Minutes after which a job run is stopped (and counted as failed)."
  type        = number
  default     = 60

  validation {
    condition     = var.job_timeout_minutes >= 1 && var.job_timeout_minutes <= 2880 && floor(var.job_timeout_minutes) == var.job_timeout_minutes
    error_message = "job_timeout_minutes must be a whole number between 1 and 2880."
  }
}

variable "job_max_retries" {
  description = "Automatic retries of a failed job run (the job is idempotent per event_date partition)."
  type        = number
  default     = 1

  validation {
    condition     = var.job_max_retries >= 0 && var.job_max_retries <= 10 && floor(var.job_max_retries) == var.job_max_retries
    error_message = "job_max_retries must be a whole number between 0 and 10."
  }
}

variable "schedule" {
  description = "Glue cron expression for a scheduled run, for example cron(15 * * * ? *); null means no schedule (runs are started by `ecomm etl run`)."
  type        = string
  default     = null
  nullable    = true

  validation {
    condition     = var.schedule == null || can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.schedule))
    error_message = "schedule must be null or a six-field Glue cron expression such as cron(15 * * * ? *)."
  }
}

variable "create_data_quality_ruleset" {
  description = "Create the Glue Data Quality ruleset over the curated events table."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Extra tags for the module's resources (the provider's default_tags apply as well)."
  type        = map(string)
  default     = {}
}

variable "metric_namespace" {
  description = "CloudWatch namespace the job publishes its CurationSucceeded heartbeat in (the role may put metrics only there and in Glue)."
  type        = string
  default     = "ecomm"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metric_namespace)) && !startswith(var.metric_namespace, "AWS/") && var.metric_namespace != "Glue"
    error_message = "metric_namespace must be 1-255 characters of letters, digits and ._/#:-, not start with AWS/ and not be Glue."
  }
}

variable "log_retention_days" {
  description = "Retention of the job's log groups, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "retired_object_tag" {
  description = "S3 object tag the job puts on curated day folders no reader is sent to any more; the lake module's lifecycle rule expires objects with it (its curated_retired_tag output)."
  type = object({
    key   = string
    value = string
  })
  default = {
    key   = "ecomm-lifecycle"
    value = "superseded"
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:/+-]{1,128}$", var.retired_object_tag.key)) && can(regex("^[A-Za-z0-9_.:/+-]{1,256}$", var.retired_object_tag.value))
    error_message = "retired_object_tag must be a key of 1-128 and a value of 1-256 characters from letters, digits and _.:/+-."
  }
}

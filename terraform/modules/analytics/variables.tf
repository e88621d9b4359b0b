variable "name_prefix" {
  description = "Prefix of every resource name (for example `ecomm-dev`); lowercase letters, digits and hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts query results (the lake module's key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "results_bucket_name" {
  description = "Name of the bucket that receives Athena query results (the lake module's athena_results_bucket_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.results_bucket_name))
    error_message = "results_bucket_name must be a valid S3 bucket name."
  }
}

variable "database_name" {
  description = "Glue database the named queries run against (the catalog module's database_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.database_name))
    error_message = "database_name must be lowercase letters, digits and underscores."
  }
}

variable "sql_dir" {
  description = "Folder of KPI queries: one named query per *.sql file, named after the file. An empty or missing folder creates none."
  type        = string
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Athena cancels a query that would scan more than this many bytes (cost guard rail)."
  type        = number
  default     = 10737418240 # 10 GiB

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760 && floor(var.bytes_scanned_cutoff_per_query) == var.bytes_scanned_cutoff_per_query
    error_message = "bytes_scanned_cutoff_per_query must be a whole number of bytes, at least 10485760 (10 MiB, the Athena minimum)."
  }
}

variable "engine_version" {
  description = "Athena engine version of the workgroup (3 is Trino-based; the KPI SQL is written for it)."
  type        = string
  default     = "Athena engine version 3"

  validation {
    condition     = contains(["AUTO", "Athena engine version 3"], var.engine_version)
    error_message = "engine_version must be \"Athena engine version 3\" or AUTO."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the workgroup even when it holds named queries or history (true for the local stack)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Extra tags for the module's resources (the provider's default_tags apply as well)."
  type        = map(string)
  default     = {}
}

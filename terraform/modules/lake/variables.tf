variable "name_prefix" {
  description = "Prefix of every resource name (for example `ecomm-dev`); lowercase letters, digits and hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets. True only for throw-away stacks (local emulator); false keeps data safe on AWS."
  type        = bool
  default     = false
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before the lake's KMS key is deleted after a destroy."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30 && floor(var.kms_deletion_window_in_days) == var.kms_deletion_window_in_days
    error_message = "kms_deletion_window_in_days must be a whole number between 7 and 30 (AWS limits)."
  }
}

variable "raw_transition_to_ia_days" {
  description = "Age in days after which raw objects move to STANDARD_IA (they are read again only for reprocessing)."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_transition_to_ia_days >= 30 && floor(var.raw_transition_to_ia_days) == var.raw_transition_to_ia_days
    error_message = "raw_transition_to_ia_days must be a whole number of at least 30 (the STANDARD_IA minimum)."
  }
}

variable "raw_expiration_days" {
  description = "Age in days after which raw objects are deleted; null keeps them forever (the raw zone is the replay source)."
  type        = number
  default     = 400
  nullable    = true

  validation {
    condition     = var.raw_expiration_days == null || try(var.raw_expiration_days >= 31 && floor(var.raw_expiration_days) == var.raw_expiration_days, false)
    error_message = "raw_expiration_days must be null or a whole number of at least 31 (after the STANDARD_IA transition)."
  }
}

variable "quarantine_expiration_days" {
  description = "Age in days after which rejected records in the quarantine bucket are deleted."
  type        = number
  default     = 90

  validation {
    condition     = var.quarantine_expiration_days >= 1 && var.quarantine_expiration_days <= 3650 && floor(var.quarantine_expiration_days) == var.quarantine_expiration_days
    error_message = "quarantine_expiration_days must be a whole number between 1 and 3650."
  }
}

variable "athena_results_expiration_days" {
  description = "Age in days after which Athena query results are deleted (they are caches, not data)."
  type        = number
  default     = 7

  validation {
    condition     = var.athena_results_expiration_days >= 1 && var.athena_results_expiration_days <= 365 && floor(var.athena_results_expiration_days) == var.athena_results_expiration_days
    error_message = "athena_results_expiration_days must be a whole number between 1 and 365."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept before it is removed, in every bucket."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number between 1 and 3650."
  }
}

variable "tags" {
  description = "Extra tags for the module's resources (the provider's default_tags apply as well)."
  type        = map(string)
  default     = {}
}

variable "curated_retired_tag" {
  description = "S3 object tag the Glue job puts on curated files no reader is sent to any more (a day rewritten under a newer run's folder); objects with it expire. The catalog module's retired_object_tag must be the same."
  type = object({
    key   = string
    value = string
  })
  default = {
    key   = "ecomm-lifecycle"
    value = "superseded"
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:/+-]{1,128}$", var.curated_retired_tag.key)) && can(regex("^[A-Za-z0-9_.:/+-]{1,256}$", var.curated_retired_tag.value))
    error_message = "curated_retired_tag must be a key of 1-128 and a value of 1-256 characters from letters, digits and _.:/+-."
  }
}

variable "curated_retired_expiration_days" {
  description = "Days after its creation that a curated object tagged as retired expires (S3 counts from creation: an old file tagged today goes at the next lifecycle pass, so keep this above the longest query)."
  type        = number
  default     = 2

  validation {
    condition     = var.curated_retired_expiration_days >= 1 && var.curated_retired_expiration_days <= 365 && floor(var.curated_retired_expiration_days) == var.curated_retired_expiration_days
    error_message = "curated_retired_expiration_days must be a whole number between 1 and 365."
  }
}

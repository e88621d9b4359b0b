variable "region" {
  description = "AWS region of the state bucket (the dev/prod backend.hcl files name the same one)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "state_bucket_name" {
  description = "Name of the Terraform state bucket; null means ecomm-tfstate-<account id>, unique per account."
  type        = string
  default     = null
  nullable    = true

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be null or a valid S3 bucket name."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an old state version is kept (versions are the undo of a bad apply)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number between 1 and 3650."
  }
}

variable "environments" {
  description = "The AWS environments whose backend.hcl the backend_hcl output holds (one state object each)."
  type        = list(string)
  default     = ["dev", "prod"]

  validation {
    condition     = length(var.environments) > 0 && alltrue([for env in var.environments : can(regex("^[a-z][a-z0-9-]{0,15}$", env))])
    error_message = "environments must be a non-empty list of short lowercase names such as dev and prod."
  }
}

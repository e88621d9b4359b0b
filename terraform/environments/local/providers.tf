# The local stack: every endpoint points at the emulator (moto in server mode) that
# `ecomm local up` starts; the state path is given by the CLI with -backend-config.
terraform {
  backend "local" {}
}

variable "emulator_endpoint" {
  description = "URL of the AWS emulator every service endpoint points at, for example http://127.0.0.1:5000 (set by `ecomm local up`)."
  type        = string

  validation {
    condition     = can(regex("^https?://[^/\\s]+$", var.emulator_endpoint))
    error_message = "emulator_endpoint must be an http(s) URL without a path, such as http://127.0.0.1:5000."
  }
}

provider "aws" {
  region = var.region

  # The emulator accepts any credentials; these fake ones keep real keys out of reach.
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  # The emulator's STS answers; without an account id the Athena workgroup ARN is malformed.
  skip_requesting_account_id = false
  skip_metadata_api_check    = true
  skip_region_validation     = true
  s3_use_path_style          = true
  # The emulator answers 500 to operations it lacks; the default retries for over ten minutes.
  max_retries = 2

  endpoints {
    athena             = var.emulator_endpoint
    cloudwatch         = var.emulator_endpoint
    dynamodb           = var.emulator_endpoint
    events             = var.emulator_endpoint
    firehose           = var.emulator_endpoint
    glue               = var.emulator_endpoint
    iam                = var.emulator_endpoint
    kinesis            = var.emulator_endpoint
    kinesisanalyticsv2 = var.emulator_endpoint
    kms                = var.emulator_endpoint
    lambda             = var.emulator_endpoint
    logs               = var.emulator_endpoint
    s3                 = var.emulator_endpoint
    sns                = var.emulator_endpoint
    sqs                = var.emulator_endpoint
    sts                = var.emulator_endpoint
  }

  default_tags {
    tags = {
      project     = "ecomm"
      environment = "local"
      managed_by  = "terraform"
    }
  }
}

# 1.11: the S3 backend's lock file (use_lockfile) is GA there, and the module tests use
# mock_provider override_during. `ecomm doctor` and a unit test keep every root, module and the
# README on the same minimum.
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

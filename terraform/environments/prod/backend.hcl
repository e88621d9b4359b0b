# Partial S3 backend settings: `terraform init -backend-config=backend.hcl` (ecomm plan does it).
# `ecomm bootstrap` (once per account) overwrites this file with its state bucket and key.
bucket       = "ecomm-tfstate-replace-with-your-account-id"
key          = "ecomm/prod/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true

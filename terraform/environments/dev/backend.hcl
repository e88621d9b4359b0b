# Partial S3 backend settings: `terraform init -backend-config=backend.hcl` (ecomm plan does it).
# The bucket is created once by terraform/bootstrap: put its state_bucket output here (its
# backend_hcl output prints this whole file with the right name).
bucket       = "ecomm-tfstate-replace-with-your-account-id"
key          = "ecomm/dev/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true

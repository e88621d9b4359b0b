# Remote state in the bootstrap stack's bucket; the rest of the backend settings are in
# backend.hcl (`terraform init -backend-config=backend.hcl`, which `ecomm plan` does).
terraform {
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project     = "ecomm"
      environment = "prod"
      managed_by  = "terraform"
    }
  }
}

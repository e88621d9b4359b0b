output "state_bucket" {
  description = "Name of the Terraform state bucket: the `bucket` of environments/dev and prod backend.hcl."
  value       = aws_s3_bucket.this.id
}

output "state_bucket_arn" {
  description = "ARN of the Terraform state bucket."
  value       = aws_s3_bucket.this.arn
}

output "state_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the state bucket."
  value       = aws_kms_key.this.arn
}

output "region" {
  description = "Region of the state bucket: the `region` of backend.hcl."
  value       = var.region
}

output "backend_hcl" {
  description = "Contents of environments/<env>/backend.hcl for each AWS environment (`ecomm bootstrap` writes them): the state object of each, encrypted with this stack's key, locked with a lock file."
  value = {
    for env in var.environments : env => <<-EOT
      bucket       = "${aws_s3_bucket.this.id}"
      key          = "${local.state_keys[env]}"
      region       = "${var.region}"
      encrypt      = true
      kms_key_id   = "${aws_kms_key.this.arn}"
      use_lockfile = true
    EOT
  }
}

output "state_reader_policy_json" {
  description = "Per environment, the policy that lets a person read that environment's state (what `ecomm` does to find its names); attach it with the platform's operator policy."
  value       = { for env, document in data.aws_iam_policy_document.state_reader : env => document.json }
}

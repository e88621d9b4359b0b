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
  description = "Contents for environments/<env>/backend.hcl (replace <env> with dev or prod)."
  value       = <<-EOT
    bucket       = "${aws_s3_bucket.this.id}"
    key          = "ecomm/<env>/terraform.tfstate"
    region       = "${var.region}"
    encrypt      = true
    use_lockfile = true
  EOT
}

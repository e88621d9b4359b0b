output "kms_key_arn" {
  description = "ARN of the platform's customer-managed KMS key (rotation on)."
  value       = aws_kms_key.this.arn
}

output "kms_key_id" {
  description = "Id of the platform's customer-managed KMS key."
  value       = aws_kms_key.this.key_id
}

output "kms_alias_name" {
  description = "Alias of the platform's KMS key."
  value       = aws_kms_alias.this.name
}

output "raw_bucket_name" {
  description = "Name of the raw bucket."
  value       = aws_s3_bucket.this["raw"].id
}

output "raw_bucket_arn" {
  description = "ARN of the raw bucket."
  value       = aws_s3_bucket.this["raw"].arn
}

output "curated_bucket_name" {
  description = "Name of the curated bucket."
  value       = aws_s3_bucket.this["curated"].id
}

output "curated_bucket_arn" {
  description = "ARN of the curated bucket."
  value       = aws_s3_bucket.this["curated"].arn
}

output "quarantine_bucket_name" {
  description = "Name of the quarantine bucket."
  value       = aws_s3_bucket.this["quarantine"].id
}

output "quarantine_bucket_arn" {
  description = "ARN of the quarantine bucket."
  value       = aws_s3_bucket.this["quarantine"].arn
}

output "athena_results_bucket_name" {
  description = "Name of the athena-results bucket."
  value       = aws_s3_bucket.this["athena-results"].id
}

output "athena_results_bucket_arn" {
  description = "ARN of the athena-results bucket."
  value       = aws_s3_bucket.this["athena-results"].arn
}

output "artifacts_bucket_name" {
  description = "Name of the artifacts bucket."
  value       = aws_s3_bucket.this["artifacts"].id
}

output "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = aws_s3_bucket.this["artifacts"].arn
}

output "curated_retired_tag" {
  description = "The S3 object tag whose curated objects expire (pass it to the catalog module's retired_object_tag)."
  value       = var.curated_retired_tag
}

output "database_name" {
  description = "Name of the Glue database holding raw_events and events."
  value       = aws_glue_catalog_database.this.name
}

output "raw_table_name" {
  description = "Name of the raw events table (JSON, partition projection on ingest_date and hour)."
  value       = aws_glue_catalog_table.raw_events.name
}

output "events_table_name" {
  description = "Name of the curated events table (Parquet, event_date partitions created and switched by the Glue job)."
  value       = aws_glue_catalog_table.events.name
}

output "glue_job_name" {
  description = "Name of the Glue job that curates raw events."
  value       = aws_glue_job.this.name
}

output "glue_job_arn" {
  description = "ARN of the Glue job."
  value       = aws_glue_job.this.arn
}

output "glue_job_role_arn" {
  description = "ARN of the IAM role the Glue job runs as."
  value       = aws_iam_role.this.arn
}

output "glue_script_s3_uri" {
  description = "S3 URI of the uploaded job script."
  value       = "s3://${var.artifacts_bucket_name}/${aws_s3_object.glue_script.key}"
}

output "raw_location" {
  description = "S3 URI of the raw events the job reads (the raw_events table location)."
  value       = local.raw_location
}

output "curated_location" {
  description = "S3 URI the job writes curated Parquet to (the events table location)."
  value       = local.curated_location
}

output "quarantine_location" {
  description = "S3 URI the job writes rejected records to."
  value       = local.quarantine_location
}

output "schedule_trigger_name" {
  description = "Name of the scheduled trigger, null when no schedule is set."
  value       = try(aws_glue_trigger.this[0].name, null)
}

output "data_quality_ruleset_name" {
  description = "Name of the Glue Data Quality ruleset, null when it is switched off."
  value       = try(aws_glue_data_quality_ruleset.this[0].name, null)
}

output "log_group_names" {
  description = "The CloudWatch log groups the job writes (driver and executor output and errors)."
  value       = [for group in aws_cloudwatch_log_group.job : group.name]
}

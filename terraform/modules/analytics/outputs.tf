output "workgroup_name" {
  description = "Name of the Athena workgroup (enforced configuration)."
  value       = aws_athena_workgroup.this.name
}

output "workgroup_arn" {
  description = "ARN of the Athena workgroup."
  value       = aws_athena_workgroup.this.arn
}

output "results_location" {
  description = "S3 URI where the workgroup writes query results."
  value       = "s3://${var.results_bucket_name}/results/"
}

output "named_query_ids" {
  description = "Named query id per KPI name (file name without .sql); empty when sql_dir holds no .sql file."
  value       = { for name, q in aws_athena_named_query.this : name => q.id }
}

output "data_source_arn" {
  description = "ARN of the QuickSight Athena data source; null when the module is disabled."
  value       = try(aws_quicksight_data_source.this[0].arn, null)
}

output "data_set_arns" {
  description = "ARNs of the QuickSight data sets by name; empty when the module is disabled."
  value       = { for key, data_set in aws_quicksight_data_set.this : key => data_set.arn }
}

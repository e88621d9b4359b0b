output "events_stream_name" {
  description = "Name of the events Kinesis stream producers write to."
  value       = aws_kinesis_stream.this.name
}

output "events_stream_arn" {
  description = "ARN of the events Kinesis stream."
  value       = aws_kinesis_stream.this.arn
}

output "firehose_name" {
  description = "Name of the Firehose delivery stream from the events stream to the raw zone."
  value       = aws_kinesis_firehose_delivery_stream.this.name
}

output "firehose_arn" {
  description = "ARN of the Firehose delivery stream."
  value       = aws_kinesis_firehose_delivery_stream.this.arn
}

output "firehose_role_arn" {
  description = "ARN of the IAM role Firehose assumes to read the stream and write the raw zone."
  value       = aws_iam_role.this.arn
}

output "raw_prefix" {
  description = "Exact Firehose S3 prefix of delivered events (with its !{timestamp:...} expressions); the local delivery runner renders it the same way."
  value       = local.raw_prefix
}

output "raw_error_prefix" {
  description = "Exact Firehose S3 prefix of records that failed delivery or processing."
  value       = local.raw_error_prefix
}

output "log_group_name" {
  description = "CloudWatch log group of Firehose delivery errors."
  value       = aws_cloudwatch_log_group.this.name
}

output "anomalies_stream_name" {
  description = "Name of the `anomalies` Kinesis stream the Flink rules write to."
  value       = aws_kinesis_stream.this.name
}

output "anomalies_stream_arn" {
  description = "ARN of the `anomalies` Kinesis stream."
  value       = aws_kinesis_stream.this.arn
}

output "flink_application_name" {
  description = "Name of the Managed Flink application; null when create_flink_application is false."
  value       = try(aws_kinesisanalyticsv2_application.this[0].name, null)
}

output "flink_code_s3_key" {
  description = "Key of the Flink application zip in the artifacts bucket; null when the application is off."
  value       = try(aws_s3_object.flink_code[0].key, null)
}

output "flink_runtime_properties" {
  description = "The runtime property groups the Flink application receives (the local detector reads the same)."
  value = {
    "ecomm.streams" = local.flink_streams
    "ecomm.rules"   = local.flink_rules
  }
}

output "lambda_function_name" {
  description = "Name of the alerting Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_arn" {
  description = "ARN of the alerting Lambda function."
  value       = aws_lambda_function.this.arn
}

output "lambda_handler" {
  description = "Handler of the alerting Lambda (module.function inside the zip built from lambdas/)."
  value       = aws_lambda_function.this.handler
}

output "event_source_mapping" {
  description = "Settings of the Kinesis event source mapping, for the local runner that plays it."
  value = {
    batch_size                         = var.lambda_batch_size
    maximum_batching_window_in_seconds = var.lambda_maximum_batching_window_seconds
    bisect_batch_on_function_error     = true
    maximum_retry_attempts             = var.lambda_maximum_retry_attempts
    maximum_record_age_in_seconds      = var.lambda_maximum_record_age_seconds
    parallelization_factor             = var.lambda_parallelization_factor
    starting_position                  = var.lambda_starting_position
  }
}

output "dlq_url" {
  description = "URL of the SQS queue that receives failed anomaly batches."
  value       = aws_sqs_queue.this.url
}

output "dlq_arn" {
  description = "ARN of the SQS queue that receives failed anomaly batches."
  value       = aws_sqs_queue.this.arn
}

output "dlq_name" {
  description = "Name of the SQS queue that receives failed anomaly batches."
  value       = aws_sqs_queue.this.name
}

output "offenders_table_name" {
  description = "Name of the DynamoDB offenders table."
  value       = aws_dynamodb_table.this.name
}

output "offenders_table_arn" {
  description = "ARN of the DynamoDB offenders table."
  value       = aws_dynamodb_table.this.arn
}

output "alerts_topic_arn" {
  description = "ARN of the SNS alerts topic (the monitoring module's alarms notify it too)."
  value       = aws_sns_topic.this.arn
}

output "rules" {
  description = "The resolved rule thresholds (defaults filled in)."
  value       = local.rules
}

output "alert_cooldown_seconds" {
  description = "Seconds between two SNS messages about the same offender."
  value       = local.alert_cooldown_seconds
}

output "offenders_ttl_days" {
  description = "Days an offender item lives before DynamoDB TTL removes it."
  value       = var.offenders_ttl_days
}

output "metric_namespace" {
  description = "CloudWatch namespace of the Lambda's embedded-metric-format metrics."
  value       = var.metric_namespace
}

output "lambda_role_arn" {
  description = "ARN of the alerting Lambda's execution role."
  value       = aws_iam_role.lambda.arn
}

output "flink_role_arn" {
  description = "ARN of the Flink application's service execution role; null without the application."
  value       = try(aws_iam_role.flink[0].arn, null)
}

output "events_consumer_arn" {
  description = "ARN of the Flink application's enhanced fan-out consumer on the events stream; null without the application."
  value       = try(aws_kinesis_stream_consumer.events[0].arn, null)
}

output "mitigation_table_name" {
  description = "Name of the DynamoDB mitigation table (blocks and the allowlist)."
  value       = aws_dynamodb_table.mitigation.name
}

output "mitigation_table_arn" {
  description = "ARN of the DynamoDB mitigation table."
  value       = aws_dynamodb_table.mitigation.arn
}

output "block_seconds" {
  description = "Seconds an offender of each rule is blocked (0: alert only), overrides applied."
  value       = local.block_seconds
}

output "lookup_function_name" {
  description = "Name of the block lookup Lambda function."
  value       = aws_lambda_function.lookup.function_name
}

output "lookup_function_arn" {
  description = "ARN of the block lookup Lambda function (the storefront's lambda:InvokeFunctionUrl resource)."
  value       = aws_lambda_function.lookup.arn
}

output "lookup_url" {
  description = "Function URL of the block lookup: GET <url>blocks/{user_id}, SigV4-signed for the service `lambda`."
  value       = aws_lambda_function_url.lookup.function_url
}

output "lookup_role_arn" {
  description = "ARN of the block lookup Lambda's execution role."
  value       = aws_iam_role.lookup.arn
}

output "storefront_policy_arn" {
  description = "Managed policy to attach to the storefront's role: lambda:InvokeFunctionUrl on the lookup, nothing else."
  value       = aws_iam_policy.storefront.arn
}

output "allowlist_admin_policy_arn" {
  description = "Managed policy for whoever runs `ecomm alerts allow | unblock` (with the operator policy to list)."
  value       = aws_iam_policy.allowlist_admin.arn
}

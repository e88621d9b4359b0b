# Flat outputs: the CLI reads them with `terraform output -json`, and the local runners take
# their settings (stream names, key layout, thresholds) from here so local and AWS cannot drift.

output "environment" {
  description = "Name of this environment."
  value       = var.environment
}

output "region" {
  description = "AWS region of the stack."
  value       = var.region
}

output "name_prefix" {
  description = "Prefix of every resource name."
  value       = var.name_prefix
}

output "kms_key_arn" {
  description = "ARN of the platform's KMS key."
  value       = module.lake.kms_key_arn
}

output "events_stream_name" {
  description = "Kinesis stream producers (`ecomm replay`) write events to."
  value       = module.ingest.events_stream_name
}

output "anomalies_stream_name" {
  description = "Kinesis stream the real-time rules write anomalies to."
  value       = module.realtime.anomalies_stream_name
}

output "firehose_name" {
  description = "Firehose delivery stream from the events stream to the raw zone."
  value       = module.ingest.firehose_name
}

output "raw_bucket" {
  description = "Raw-zone bucket."
  value       = module.lake.raw_bucket_name
}

output "curated_bucket" {
  description = "Curated-zone bucket."
  value       = module.lake.curated_bucket_name
}

output "quarantine_bucket" {
  description = "Quarantine bucket (rejected records with a reason)."
  value       = module.lake.quarantine_bucket_name
}

output "athena_results_bucket" {
  description = "Athena query results bucket."
  value       = module.lake.athena_results_bucket_name
}

output "artifacts_bucket" {
  description = "Artifacts bucket (Glue script, Lambda and Flink code)."
  value       = module.lake.artifacts_bucket_name
}

output "raw_prefix" {
  description = "Firehose key prefix of delivered events, with its !{timestamp:...} expressions."
  value       = module.ingest.raw_prefix
}

output "raw_error_prefix" {
  description = "Firehose key prefix of failed records."
  value       = module.ingest.raw_error_prefix
}

output "glue_database" {
  description = "Glue database of the raw_events and events tables."
  value       = module.catalog.database_name
}

output "glue_raw_table" {
  description = "Raw events table (JSON)."
  value       = module.catalog.raw_table_name
}

output "glue_events_table" {
  description = "Curated events table (Parquet)."
  value       = module.catalog.events_table_name
}

output "glue_job_name" {
  description = "Glue job that curates raw events."
  value       = module.catalog.glue_job_name
}

output "glue_script_s3_uri" {
  description = "S3 URI of the uploaded Glue script."
  value       = module.catalog.glue_script_s3_uri
}

output "athena_workgroup" {
  description = "Athena workgroup of the KPI queries."
  value       = module.analytics.workgroup_name
}

output "named_query_ids" {
  description = "Athena named query id per KPI name."
  value       = module.analytics.named_query_ids
}

output "offenders_table" {
  description = "DynamoDB table of offenders."
  value       = module.realtime.offenders_table_name
}

output "alerts_topic_arn" {
  description = "SNS topic of alerts and alarms."
  value       = module.realtime.alerts_topic_arn
}

output "mitigation_table" {
  description = "DynamoDB table of blocks and allowlist entries."
  value       = module.realtime.mitigation_table_name
}

output "block_seconds" {
  description = "Seconds an offender of each rule is blocked (0: alert only)."
  value       = module.realtime.block_seconds
}

output "lookup_function_name" {
  description = "Block lookup Lambda function (`ecomm local lookup` serves its handler)."
  value       = module.realtime.lookup_function_name
}

output "lookup_function_arn" {
  description = "ARN of the block lookup function."
  value       = module.realtime.lookup_function_arn
}

output "lookup_url" {
  description = "Function URL of the block lookup (IAM auth): GET <url>blocks/{user_id}."
  value       = module.realtime.lookup_url
}

output "storefront_policy_arn" {
  description = "Managed policy for the storefront's role: call the block lookup, nothing else."
  value       = module.realtime.storefront_policy_arn
}

output "allowlist_admin_policy_arn" {
  description = "Managed policy for whoever runs `ecomm alerts allow | unblock` against this environment."
  value       = module.realtime.allowlist_admin_policy_arn
}

output "dlq_url" {
  description = "SQS queue of anomaly batches the Lambda could not process."
  value       = module.realtime.dlq_url
}

output "dlq_name" {
  description = "Name of the dead-letter queue."
  value       = module.realtime.dlq_name
}

output "lambda_function_name" {
  description = "Alerting Lambda function."
  value       = module.realtime.lambda_function_name
}

output "lambda_handler" {
  description = "Handler of the alerting Lambda (the local runner calls the same one)."
  value       = module.realtime.lambda_handler
}

output "event_source_mapping" {
  description = "Settings of the Lambda's Kinesis event source mapping (the local runner plays them)."
  value       = module.realtime.event_source_mapping
}

output "flink_application_name" {
  description = "Managed Flink application; null when it is not created."
  value       = module.realtime.flink_application_name
}

output "flink_runtime_properties" {
  description = "Runtime properties of the Flink application (the local detector reads the same)."
  value       = module.realtime.flink_runtime_properties
}

output "rule_thresholds" {
  description = "Thresholds of the real-time rules."
  value       = module.realtime.rules
}

output "alert_cooldown_seconds" {
  description = "Seconds between two alerts about the same offender."
  value       = module.realtime.alert_cooldown_seconds
}

output "offenders_ttl_days" {
  description = "Days an offender item lives in DynamoDB."
  value       = module.realtime.offenders_ttl_days
}

output "metric_namespace" {
  description = "CloudWatch namespace of the platform's custom metrics."
  value       = module.realtime.metric_namespace
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the platform."
  value       = module.monitoring.dashboard_name
}

output "iam_role_arns" {
  description = "Role of each component that calls AWS at run time (tests/permissions checks every call against them); flink is null without the application."
  value = {
    firehose = module.ingest.firehose_role_arn
    flink    = module.realtime.flink_role_arn
    lambda   = module.realtime.lambda_role_arn
    glue     = module.catalog.glue_job_role_arn
    blocks   = module.realtime.lookup_role_arn
  }
}

output "events_consumer_arn" {
  description = "The Flink application's enhanced fan-out consumer on the events stream; null without the application."
  value       = module.realtime.events_consumer_arn
}

output "alerting_lambda_runtime" {
  description = "Runtime and layers of the alerting Lambda: the Python and Powertools layer of lambdas/powertools_layer.json."
  value = {
    runtime = local.powertools.python_runtime
    layers  = var.attach_powertools_layer ? [local.powertools_layer_arn] : []
  }
}

output "glue_log_groups" {
  description = "The log groups the Glue job writes."
  value       = module.catalog.log_group_names
}

output "operator_policy_arn" {
  description = "Managed policy for a person or CI running `ecomm replay | etl | kpi | report | alerts` against this environment (plus read access to its state: the bootstrap's state_reader_policy_json)."
  value       = aws_iam_policy.operator.arn
}

output "operator_policy_json" {
  description = "The operator policy's document (see operator_policy_arn)."
  value       = data.aws_iam_policy_document.operator.json
}

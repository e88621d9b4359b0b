output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_names" {
  description = "Names of every CloudWatch alarm (sorted); `ecomm alerts check` reads their states."
  value       = sort([for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_name])
}

output "alarm_names_by_check" {
  description = "Alarm names keyed by what they watch (events_iterator_age, dlq_depth, ...)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "glue_failure_rule_name" {
  description = "Name of the EventBridge rule that reports failed Glue runs; null without a Glue job."
  value       = try(aws_cloudwatch_event_rule.glue_job_failed[0].name, null)
}

output "curation_heartbeat_metric" {
  description = "The metric the ETL publishes (value 1) at the end of each successful run, which the curation-heartbeat alarm watches."
  value = {
    namespace   = var.metric_namespace
    metric_name = "CurationSucceeded"
    dimensions  = { Dataset = var.curated_dataset_name }
  }
}

output "kms_service_principals" {
  description = "Service principals the policy of kms_key_arn must allow (kms:GenerateDataKey*, kms:Decrypt) so alarms and the Glue rule can publish to the encrypted topic."
  value = {
    key_arn    = var.kms_key_arn
    principals = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
  }
}

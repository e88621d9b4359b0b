# Plan-mode tests of the monitoring module against a mocked provider.

mock_provider "aws" {
  source = "../../mocks/aws"
}

variables {
  name_prefix            = "ecomm-test"
  alerts_topic_arn       = "arn:aws:sns:eu-west-1:123456789012:ecomm-test-alerts"
  kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  events_stream_name     = "ecomm-test-events"
  anomalies_stream_name  = "ecomm-test-anomalies"
  lambda_function_name   = "ecomm-test-alerting"
  dlq_name               = "ecomm-test-alerting-dlq"
  flink_application_name = "ecomm-test-anomaly-rules"
  firehose_name          = "ecomm-test-raw"
  glue_job_name          = "ecomm-test-etl"
}

run "every_alarm_notifies_the_topic" {
  command = plan

  variables {
    curation_scheduled = true
  }

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "events_write_throttles", "events_iterator_age", "events_read_throttles", "lambda_errors",
      "dlq_depth", "offenders_per_minute", "curation_heartbeat", "flink_downtime",
      "firehose_delivery", "firehose_data_freshness", "firehose_source_throttles",
    ])
    error_message = "every watched signal must have an alarm"
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset([var.alerts_topic_arn]) && a.actions_enabled])
    error_message = "every alarm must notify the alerts topic"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["events_iterator_age"].metric_name == "GetRecords.IteratorAgeMilliseconds" && aws_cloudwatch_metric_alarm.this["events_iterator_age"].dimensions["StreamName"] == "ecomm-test-events"
    error_message = "the iterator age alarm must watch the events stream"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["offenders_per_minute"].namespace == "ecomm" && aws_cloudwatch_metric_alarm.this["offenders_per_minute"].dimensions["service"] == "alerting"
    error_message = "the offenders alarm must read the Lambda's EMF metric"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["curation_heartbeat"].metric_name == "CurationSucceeded"
      && aws_cloudwatch_metric_alarm.this["curation_heartbeat"].statistic == "Sum"
      && aws_cloudwatch_metric_alarm.this["curation_heartbeat"].comparison_operator == "LessThanThreshold"
      && aws_cloudwatch_metric_alarm.this["curation_heartbeat"].threshold == 1
      && aws_cloudwatch_metric_alarm.this["curation_heartbeat"].period == 3600
      && aws_cloudwatch_metric_alarm.this["curation_heartbeat"].evaluation_periods == 26
      && aws_cloudwatch_metric_alarm.this["curation_heartbeat"].treat_missing_data == "breaching"
    )
    error_message = "no successful curation for curated_max_age_hours hours (no heartbeat at all included) must alarm"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["firehose_data_freshness"].metric_name == "DeliveryToS3.DataFreshness" && aws_cloudwatch_metric_alarm.this["firehose_data_freshness"].threshold == 900
    error_message = "Firehose must alarm when undelivered data gets old"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["firehose_source_throttles"].metric_name == "ThrottledGetRecords" && aws_cloudwatch_metric_alarm.this["events_read_throttles"].metric_name == "ReadProvisionedThroughputExceeded"
    error_message = "throttled reads of the events stream must alarm"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["firehose_delivery"].comparison_operator == "LessThanThreshold"
    error_message = "Firehose must alarm when deliveries stop succeeding"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.glue_job_failed[0].event_pattern).detail.jobName == ["ecomm-test-etl"]
    error_message = "failed runs of the Glue job must be caught"
  }
  assert {
    condition     = aws_cloudwatch_event_target.glue_job_failed[0].arn == var.alerts_topic_arn
    error_message = "failed Glue runs must notify the alerts topic"
  }
  assert {
    condition     = length(output.alarm_names) == 11 && contains(output.alarm_names, "ecomm-test-dlq-depth")
    error_message = "alarm_names must list every alarm"
  }
  assert {
    condition     = output.dashboard_name == "ecomm-test-platform"
    error_message = "the dashboard must be named from the prefix"
  }
}

run "optional_sources_off" {
  command = plan

  variables {
    flink_application_name = null
    firehose_name          = null
    glue_job_name          = null
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 6 && !contains(keys(aws_cloudwatch_metric_alarm.this), "flink_downtime")
    error_message = "no alarm for an absent Flink application or Firehose"
  }
  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.this), "curation_heartbeat")
    error_message = "no heartbeat alarm where curation runs on demand only (the default)"
  }
  assert {
    condition     = output.glue_failure_rule_name == null && length(aws_cloudwatch_event_target.glue_job_failed) == 0
    error_message = "no Glue rule without a Glue job, and its output is null"
  }
}

run "thresholds_override" {
  command = plan

  variables {
    thresholds = {
      offenders_per_minute = 5
    }
    metric_namespace = "ecomm-prod"
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["offenders_per_minute"].threshold == 5 && aws_cloudwatch_metric_alarm.this["offenders_per_minute"].namespace == "ecomm-prod"
    error_message = "thresholds and namespace must reach the alarms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["events_iterator_age"].threshold == 60000
    error_message = "unset thresholds keep their defaults"
  }
}

# One run per variable validation.

run "invalid_name_prefix" {
  command = plan

  variables {
    name_prefix = "Ecomm_Test"
  }

  expect_failures = [var.name_prefix]
}

run "invalid_alerts_topic_arn" {
  command = plan

  variables {
    alerts_topic_arn = "ecomm-test-alerts"
  }

  expect_failures = [var.alerts_topic_arn]
}

run "invalid_kms_key_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/ecomm"
  }

  expect_failures = [var.kms_key_arn]
}

run "invalid_events_stream_name" {
  command = plan

  variables {
    events_stream_name = "bad name"
  }

  expect_failures = [var.events_stream_name]
}

run "invalid_anomalies_stream_name" {
  command = plan

  variables {
    anomalies_stream_name = "bad name"
  }

  expect_failures = [var.anomalies_stream_name]
}

run "invalid_lambda_function_name" {
  command = plan

  variables {
    lambda_function_name = "bad name"
  }

  expect_failures = [var.lambda_function_name]
}

run "invalid_dlq_name" {
  command = plan

  variables {
    dlq_name = "bad name"
  }

  expect_failures = [var.dlq_name]
}

run "invalid_flink_application_name" {
  command = plan

  variables {
    flink_application_name = "bad name"
  }

  expect_failures = [var.flink_application_name]
}

run "invalid_firehose_name" {
  command = plan

  variables {
    firehose_name = "bad name"
  }

  expect_failures = [var.firehose_name]
}

run "invalid_glue_job_name" {
  command = plan

  variables {
    glue_job_name = "bad name"
  }

  expect_failures = [var.glue_job_name]
}

run "invalid_curated_max_age_hours" {
  command = plan

  variables {
    # More than the 7 days of hourly periods CloudWatch evaluates.
    curated_max_age_hours = 169
  }

  expect_failures = [var.curated_max_age_hours]
}

run "invalid_metric_namespace" {
  command = plan

  variables {
    metric_namespace = "AWS/Kinesis"
  }

  expect_failures = [var.metric_namespace]
}

run "invalid_alerting_service_name" {
  command = plan

  variables {
    alerting_service_name = "Alerting Service"
  }

  expect_failures = [var.alerting_service_name]
}

run "invalid_curated_dataset_name" {
  command = plan

  variables {
    curated_dataset_name = "Events!"
  }

  expect_failures = [var.curated_dataset_name]
}

run "invalid_thresholds_counts" {
  command = plan

  variables {
    thresholds = { events_iterator_age_ms = 10 }
  }

  expect_failures = [var.thresholds]
}

run "invalid_thresholds_freshness" {
  command = plan

  variables {
    thresholds = { firehose_data_freshness_seconds = 10 }
  }

  expect_failures = [var.thresholds]
}

run "invalid_thresholds_ratio" {
  command = plan

  variables {
    thresholds = { firehose_delivery_success_ratio = 2 }
  }

  expect_failures = [var.thresholds]
}

run "invalid_evaluation_periods" {
  command = plan

  variables {
    evaluation_periods = 0
  }

  expect_failures = [var.evaluation_periods]
}

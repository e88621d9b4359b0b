# One dashboard and the alarms that page the alerts topic. Features whose resource does not
# exist in an environment (no Flink application locally) simply have no alarm.

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.name

  # Every alarm, then filtered by `enabled`: one shape for all keeps a single for_each resource.
  all_alarms = {
    events_write_throttles = {
      enabled     = true
      description = "Producers are throttled writing to the events stream: add shards or switch to on-demand."
      namespace   = "AWS/Kinesis"
      metric      = "WriteProvisionedThroughputExceeded"
      dimensions  = { StreamName = var.events_stream_name }
      statistic   = "Sum"
      period      = 60
      periods     = var.evaluation_periods
      threshold   = var.thresholds.events_write_throttles_per_minute
      comparison  = "GreaterThanThreshold"
      missing     = "notBreaching"
    }
    events_iterator_age = {
      enabled     = true
      description = "A consumer of the events stream (Flink, Firehose) is falling behind."
      namespace   = "AWS/Kinesis"
      metric      = "GetRecords.IteratorAgeMilliseconds"
      dimensions  = { StreamName = var.events_stream_name }
      statistic   = "Maximum"
      period      = 60
      periods     = var.evaluation_periods
      threshold   = var.thresholds.events_iterator_age_ms
      comparison  = "GreaterThanThreshold"
      missing     = "notBreaching"
    }
    lambda_errors = {
      enabled     = true
      description = "The alerting Lambda fails; failed batches are retried and end in the DLQ."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = { FunctionName = var.lambda_function_name }
      statistic   = "Sum"
      period      = 60
      periods     = 1
      threshold   = var.thresholds.lambda_errors_per_minute
      comparison  = "GreaterThanThreshold"
      missing     = "notBreaching"
    }
    dlq_depth = {
      enabled     = true
      description = "Anomaly batches the Lambda could not process wait in the DLQ queue."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = var.dlq_name }
      statistic   = "Maximum"
      period      = 60
      periods     = 1
      threshold   = var.thresholds.dlq_messages
      comparison  = "GreaterThanThreshold"
      missing     = "notBreaching"
    }
    offenders_per_minute = {
      enabled     = true
      description = "Unusually many new offenders per minute: an attack, or a rule threshold set too low."
      namespace   = var.metric_namespace
      metric      = "Offenders"
      dimensions  = { service = var.alerting_service_name }
      statistic   = "Sum"
      period      = 60
      periods     = 1
      threshold   = var.thresholds.offenders_per_minute
      comparison  = "GreaterThanThreshold"
      missing     = "notBreaching"
    }
    # A heartbeat: the ETL publishes CurationSucceeded at the end of every successful run (glue/
    # curate_events.py). Missing data is breaching on purpose: no successful run for
    # curated_max_age_hours is the failure. It never looks at how old the events are, so a replay
    # of 2019 data does not page. Only where curation is scheduled: on-demand runs have no rhythm.
    curation_heartbeat = {
      enabled     = var.curation_scheduled
      description = "No successful curation run has reported for ${var.curated_max_age_hours} h: the scheduled Glue job is failing or not running (see docs/operations.md)."
      namespace   = var.metric_namespace
      metric      = "CurationSucceeded"
      dimensions  = { Dataset = var.curated_dataset_name }
      statistic   = "Sum"
      period      = 3600
      periods     = var.curated_max_age_hours
      threshold   = 1
      comparison  = "LessThanThreshold"
      missing     = "breaching"
    }
    flink_downtime = {
      enabled     = var.flink_application_name != null
      description = "The Managed Flink application is down: no real-time rules run."
      namespace   = "AWS/KinesisAnalytics"
      metric      = "downtime"
      dimensions  = { Application = coalesce(var.flink_application_name, "none") }
      statistic   = "Maximum"
      period      = 60
      periods     = var.evaluation_periods
      threshold   = 0
      comparison  = "GreaterThanThreshold"
      missing     = "breaching"
    }
    firehose_delivery = {
      enabled     = var.firehose_name != null
      description = "Firehose fails to deliver to the raw zone (failed records go under raw/errors/)."
      namespace   = "AWS/Firehose"
      metric      = "DeliveryToS3.Success"
      dimensions  = { DeliveryStreamName = coalesce(var.firehose_name, "none") }
      statistic   = "Average"
      period      = 300
      periods     = 1
      threshold   = var.thresholds.firehose_delivery_success_ratio
      comparison  = "LessThanThreshold"
      missing     = "notBreaching"
    }
    firehose_data_freshness = {
      enabled     = var.firehose_name != null
      description = "The oldest record Firehose has not yet delivered to the raw zone is older than ${var.thresholds.firehose_data_freshness_seconds} s: delivery is stuck or falling behind."
      namespace   = "AWS/Firehose"
      metric      = "DeliveryToS3.DataFreshness"
      dimensions  = { DeliveryStreamName = coalesce(var.firehose_name, "none") }
      statistic   = "Maximum"
      period      = 300
      periods     = 1
      threshold   = var.thresholds.firehose_data_freshness_seconds
      comparison  = "GreaterThanThreshold"
      missing     = "notBreaching"
    }
    firehose_source_throttles = {
      enabled     = var.firehose_name != null
      description = "Firehose is throttled reading the events stream (GetRecords): another reader takes the shard's 5 reads a second."
      namespace   = "AWS/Firehose"
      metric      = "ThrottledGetRecords"
      dimensions  = { DeliveryStreamName = coalesce(var.firehose_name, "none") }
      statistic   = "Sum"
      period      = 60
      periods     = var.evaluation_periods
      threshold   = var.thresholds.firehose_throttled_reads_per_minute
      comparison  = "GreaterThanThreshold"
      missing     = "notBreaching"
    }
    events_read_throttles = {
      enabled     = true
      description = "Reads of the events stream are throttled (a polling consumer exceeds the shard's 5 reads or 2 MB a second)."
      namespace   = "AWS/Kinesis"
      metric      = "ReadProvisionedThroughputExceeded"
      dimensions  = { StreamName = var.events_stream_name }
      statistic   = "Sum"
      period      = 60
      periods     = var.evaluation_periods
      threshold   = var.thresholds.firehose_throttled_reads_per_minute
      comparison  = "GreaterThanThreshold"
      missing     = "notBreaching"
    }
  }

  alarms = { for key, alarm in local.all_alarms : key => alarm if alarm.enabled }

  metric_widget = {
    for key, alarm in local.alarms : key => {
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title   = replace(key, "_", " ")
        region  = local.region
        stat    = alarm.statistic
        period  = alarm.period
        metrics = [concat([alarm.namespace, alarm.metric], flatten([for k, v in alarm.dimensions : [k, v]]))]
        annotations = {
          horizontal = [{ label = "alarm", value = alarm.threshold }]
        }
      }
    }
  }

  extra_widgets = [
    {
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title   = "anomalies stream records in"
        region  = local.region
        stat    = "Sum"
        period  = 60
        metrics = [["AWS/Kinesis", "IncomingRecords", "StreamName", var.anomalies_stream_name]]
      }
    },
    {
      type   = "metric"
      width  = 8
      height = 6
      properties = {
        title  = "alerting outcomes and record failures"
        region = local.region
        stat   = "Sum"
        period = 60
        metrics = [
          [var.metric_namespace, "AlertsSent", "service", var.alerting_service_name],
          [var.metric_namespace, "AlertsSuppressed", "service", var.alerting_service_name],
          [var.metric_namespace, "DuplicateAnomalies", "service", var.alerting_service_name],
          [var.metric_namespace, "MalformedAnomalies", "service", var.alerting_service_name],
          [var.metric_namespace, "ProcessingErrors", "service", var.alerting_service_name],
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = each.value.missing
  actions_enabled     = true
  alarm_actions       = [var.alerts_topic_arn]
  ok_actions          = [var.alerts_topic_arn]

  tags = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-platform"
  dashboard_body = jsonencode({
    widgets = concat(
      [for key in sort(keys(local.metric_widget)) : local.metric_widget[key]],
      local.extra_widgets,
      [{
        type   = "alarm"
        width  = 24
        height = 4
        properties = {
          title  = "alarms"
          alarms = [for key in sort(keys(aws_cloudwatch_metric_alarm.this)) : aws_cloudwatch_metric_alarm.this[key].arn]
        }
      }],
    )
  })
}

# A failed Glue run has no reliable metric (a crash before any task reports no failed tasks),
# so the job's own state-change event notifies the topic.
resource "aws_cloudwatch_event_rule" "glue_job_failed" {
  count = var.glue_job_name == null ? 0 : 1

  name        = "${var.name_prefix}-glue-job-failed"
  description = "A run of the ETL job failed, timed out or errored"
  event_pattern = jsonencode({
    source      = ["aws.glue"]
    detail-type = ["Glue Job State Change"]
    detail = {
      jobName = [var.glue_job_name]
      state   = ["FAILED", "TIMEOUT", "ERROR"]
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "glue_job_failed" {
  count = var.glue_job_name == null ? 0 : 1

  rule      = aws_cloudwatch_event_rule.glue_job_failed[0].name
  target_id = "alerts-topic"
  arn       = var.alerts_topic_arn
}

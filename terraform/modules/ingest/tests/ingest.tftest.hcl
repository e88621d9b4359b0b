mock_provider "aws" {
  override_during = plan
  source          = "../../mocks/aws"
}

variables {
  name_prefix    = "ecomm-test"
  kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  raw_bucket_arn = "arn:aws:s3:::ecomm-test-raw-123456789012"
}

run "provisioned_stream_feeds_firehose_into_raw" {
  command = plan

  assert {
    condition     = aws_kinesis_stream.this.name == "ecomm-test-events"
    error_message = "The events stream must be named <prefix>-events."
  }

  assert {
    condition     = aws_kinesis_stream.this.shard_count == 1 && aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "PROVISIONED"
    error_message = "Default is one provisioned shard."
  }

  assert {
    condition     = aws_kinesis_stream.this.encryption_type == "KMS" && aws_kinesis_stream.this.kms_key_id == var.kms_key_arn
    error_message = "The events stream must be KMS-encrypted with the lake key."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.kinesis_source_configuration[0].kinesis_stream_arn == "arn:aws:kinesis:eu-west-1:123456789012:stream/ecomm-test-events"
    error_message = "Firehose must read the events stream."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].compression_format == "GZIP"
    error_message = "Raw objects must be GZIP-compressed."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].prefix == "raw/events/ingest_date=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
    error_message = "Raw prefix changed: the raw_events table and the local runner depend on it."
  }

  assert {
    condition     = output.raw_error_prefix == "raw/errors/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/"
    error_message = "Error prefix output changed."
  }

  assert {
    condition     = output.raw_prefix == aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].prefix
    error_message = "The raw_prefix output must be the exact Firehose prefix."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].processing_configuration[0].processors[0].type == "AppendDelimiterToRecord"
    error_message = "Records must be newline-delimited (JSON lines)."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].buffering_size == 64 && aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].buffering_interval == 300
    error_message = "Buffering defaults changed."
  }

  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].cloudwatch_logging_options[0].enabled
    error_message = "Delivery errors must be logged."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "The delivery log group must be KMS-encrypted."
  }

  assert {
    condition     = alltrue(flatten([for s in data.aws_iam_policy_document.firehose.statement : [for a in s.actions : a != "*" && !endswith(a, ":*")]]))
    error_message = "The Firehose role must not use wildcard actions."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.firehose.statement : !contains(s.resources, "*")])
    error_message = "Every Firehose permission has a resource-level scope."
  }

  assert {
    condition     = contains(one([for s in data.aws_iam_policy_document.firehose.statement : s.resources if s.sid == "WriteRawZone"]), "arn:aws:s3:::ecomm-test-raw-123456789012/raw/*")
    error_message = "Firehose may write only under raw/ of the raw bucket."
  }
}

run "on_demand_stream_has_no_shard_count" {
  command = plan

  variables {
    stream_mode = "ON_DEMAND"
    shard_count = 4
  }

  assert {
    condition     = aws_kinesis_stream.this.shard_count == null && aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "ON_DEMAND"
    error_message = "ON_DEMAND streams must not set a shard count."
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "-bad"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_non_kms_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/ecomm"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_non_bucket_arn" {
  command = plan
  variables {
    raw_bucket_arn = "ecomm-test-raw"
  }
  expect_failures = [var.raw_bucket_arn]
}

run "rejects_unknown_stream_mode" {
  command = plan
  variables {
    stream_mode = "SERVERLESS"
  }
  expect_failures = [var.stream_mode]
}

run "rejects_zero_shards" {
  command = plan
  variables {
    shard_count = 0
  }
  expect_failures = [var.shard_count]
}

run "rejects_short_retention" {
  command = plan
  variables {
    retention_period_hours = 12
  }
  expect_failures = [var.retention_period_hours]
}

run "rejects_oversized_buffer" {
  command = plan
  variables {
    buffering_size_mb = 256
  }
  expect_failures = [var.buffering_size_mb]
}

run "rejects_long_buffer_interval" {
  command = plan
  variables {
    buffering_interval_seconds = 1200
  }
  expect_failures = [var.buffering_interval_seconds]
}

run "rejects_unsupported_log_retention" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

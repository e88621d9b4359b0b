data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  # The key layout of the raw zone. The local delivery runner reads these exact strings from the
  # outputs, so the emulator's lake and the real one cannot drift apart.
  raw_prefix       = "raw/events/ingest_date=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
  raw_error_prefix = "raw/errors/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/"

  firehose_name   = "${var.name_prefix}-events-to-raw"
  log_group_name  = "/aws/kinesisfirehose/${local.firehose_name}"
  log_stream_name = "DestinationDelivery"
}

resource "aws_kinesis_stream" "this" {
  name             = "${var.name_prefix}-events"
  shard_count      = var.stream_mode == "PROVISIONED" ? var.shard_count : null
  retention_period = var.retention_period_hours
  encryption_type  = "KMS"
  kms_key_id       = var.kms_key_arn

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "this" {
  name           = local.log_stream_name
  log_group_name = aws_cloudwatch_log_group.this.name
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name_prefix}-firehose-events"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid = "ReadEventsStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [aws_kinesis_stream.this.arn]
  }

  statement {
    sid = "FindRawBucket"
    actions = [
      "s3:GetBucketLocation",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
    ]
    resources = [var.raw_bucket_arn]
  }

  statement {
    sid = "WriteRawZone"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetObject",
      "s3:PutObject",
    ]
    resources = ["${var.raw_bucket_arn}/raw/*"]
  }

  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "WriteDeliveryLogs"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:log-stream:${local.log_stream_name}"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "deliver-events-to-raw"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.firehose.json
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  # checkov:skip=CKV_AWS_240:Firehose rejects server-side encryption when its source is a Kinesis stream; the records stay encrypted by the stream's KMS key and the objects by SSE-KMS.
  # checkov:skip=CKV_AWS_241:Same reason as CKV_AWS_240: with a Kinesis stream source, encryption at rest comes from the stream's KMS key.
  name        = local.firehose_name
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.this.arn
    role_arn           = aws_iam_role.this.arn
  }

  extended_s3_configuration {
    role_arn            = aws_iam_role.this.arn
    bucket_arn          = var.raw_bucket_arn
    prefix              = local.raw_prefix
    error_output_prefix = local.raw_error_prefix
    buffering_size      = var.buffering_size_mb
    buffering_interval  = var.buffering_interval_seconds
    compression_format  = "GZIP"
    kms_key_arn         = var.kms_key_arn

    # Producers send one JSON object per record without a trailing newline; appending one makes
    # every delivered object JSON lines, which the raw_events table's JSON SerDe needs.
    processing_configuration {
      enabled = true
      processors {
        type = "AppendDelimiterToRecord"
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.this.name
      log_stream_name = aws_cloudwatch_log_stream.this.name
    }
  }

  tags = var.tags

  # The role must be able to read the stream before Firehose validates the source.
  depends_on = [aws_iam_role_policy.this]
}

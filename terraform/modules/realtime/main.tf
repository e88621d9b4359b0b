# The real-time channel: Flink rules over the events stream write anomalies to their own
# stream; a Lambda turns each anomaly into an idempotent offender item, a block with an end time
# (unless the user is allowlisted) and, at most once per cooldown per user, an SNS message; a
# second Lambda behind an IAM-authenticated function URL answers the storefront's block lookups.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  anomalies_stream_name = "${var.name_prefix}-anomalies"
  flink_app_name        = "${var.name_prefix}-anomaly-rules"
  lambda_name           = "${var.name_prefix}-alerting"
  lookup_name           = "${var.name_prefix}-blocks"
  flink_code_key        = "flink/${local.flink_app_name}.zip"
  events_consumer_name  = "${var.name_prefix}-anomaly-rules"

  # Every property group becomes the application's runtime properties; flink/main.py flattens
  # them and substitutes `${name}` in the rule SQL, so a threshold never lives in the SQL itself.
  flink_streams = {
    events_stream_name    = var.events_stream_name
    events_stream_arn     = var.events_stream_arn
    events_consumer_name  = local.events_consumer_name
    anomalies_stream_name = local.anomalies_stream_name
    anomalies_stream_arn  = aws_kinesis_stream.this.arn
    aws_region            = local.region
  }
  # The rules manifest (sql/realtime/rules.json): every parameter the Flink job reads, with its
  # default and bounds; `rules` overrides them per environment.
  manifest = jsondecode(file(coalesce(var.rules_manifest_path, "${path.module}/../../../sql/realtime/rules.json")))
  manifest_flink_parameters = merge(
    merge([for rule in values(local.manifest.rules) : rule.parameters]...),
    { for name, setting in local.manifest.settings : name => setting if contains(setting.used_by, "flink") },
  )
  rules = merge(
    { for name, p in local.manifest_flink_parameters : name => p.value },
    { for name, value in var.rules : name => value if value != null },
  )
  flink_rules            = { for k, v in local.rules : k => tostring(v) }
  alert_cooldown_seconds = coalesce(var.alert_cooldown_seconds, local.manifest.settings.alert_cooldown_seconds.value)
  # Each rule's block duration (the manifest's `block`, 0: alert only), with `block_seconds`
  # applied; the alerting Lambda receives the map as JSON.
  manifest_blocks = { for name, rule in local.manifest.rules : name => rule.block if try(rule.block, null) != null }
  block_seconds = merge(
    { for name, block in local.manifest_blocks : name => block.value },
    { for name, value in var.block_seconds : name => value if value != null },
  )
  flink_run_options = merge(
    { python = "main.py" },
    var.flink_connector_jar == null ? {} : { jarfile = var.flink_connector_jar },
  )
}

# --- anomalies stream ------------------------------------------------------------------------

resource "aws_kinesis_stream" "this" {
  name             = local.anomalies_stream_name
  shard_count      = var.anomalies_shard_count
  retention_period = var.anomalies_retention_hours
  encryption_type  = "KMS"
  kms_key_id       = var.kms_key_arn

  stream_mode_details {
    stream_mode = "PROVISIONED"
  }

  tags = var.tags
}

# --- Managed Service for Apache Flink ----------------------------------------------------------

# Flink reads the events stream through its own enhanced fan-out consumer: the 5.0 Kinesis
# source polls GetRecords in a loop with no pause, which would take the shard's 5 reads a second
# that Firehose shares. Terraform owns the consumer (the job uses it SELF_MANAGED), so it goes
# with `destroy` and never blocks the stream's deletion. See docs/realtime.md, "Reading the
# events stream".
resource "aws_kinesis_stream_consumer" "events" {
  count = var.create_flink_application ? 1 : 0

  name       = local.events_consumer_name
  stream_arn = var.events_stream_arn
}

resource "aws_s3_object" "flink_code" {
  count = var.create_flink_application ? 1 : 0

  bucket      = var.artifacts_bucket_name
  key         = local.flink_code_key
  source      = var.flink_zip_path
  source_hash = try(filemd5(var.flink_zip_path), null)
  # SSE-KMS objects have no MD5 etag; source_hash alone drives the update.
  kms_key_id             = var.kms_key_arn
  server_side_encryption = "aws:kms"
  content_type           = "application/zip"

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.flink_zip_path != null
      error_message = "create_flink_application is true but flink_zip_path is null: build the Flink zip (ecomm plan does) or set create_flink_application = false."
    }
  }
}

resource "aws_cloudwatch_log_group" "flink" {
  count = var.create_flink_application ? 1 : 0

  name              = "/aws/kinesis-analytics/${local.flink_app_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_cloudwatch_log_stream" "flink" {
  count = var.create_flink_application ? 1 : 0

  name           = "application"
  log_group_name = aws_cloudwatch_log_group.flink[0].name
}

data "aws_iam_policy_document" "flink_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["kinesisanalytics.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "flink" {
  statement {
    sid = "ReadApplicationCode"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
    ]
    resources = ["${var.artifacts_bucket_arn}/${local.flink_code_key}"]
  }

  statement {
    sid = "ListEventShards"
    actions = [
      "kinesis:DescribeStreamSummary",
      "kinesis:ListShards",
    ]
    resources = [var.events_stream_arn]
  }

  # The enhanced fan-out reads: SELF_MANAGED, so no Register/DeregisterStreamConsumer.
  statement {
    sid = "ReadEventsThroughConsumer"
    actions = [
      "kinesis:DescribeStreamConsumer",
      "kinesis:SubscribeToShard",
    ]
    # The consumer's own ARN (AWS appends its creation time), known once it exists.
    resources = [try(aws_kinesis_stream_consumer.events[0].arn, "${var.events_stream_arn}/consumer/${local.events_consumer_name}:*")]
  }

  statement {
    sid = "WriteAnomaliesStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:ListShards",
      "kinesis:PutRecord",
      "kinesis:PutRecords",
    ]
    resources = [aws_kinesis_stream.this.arn]
  }

  statement {
    sid = "UsePlatformKey"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "WriteApplicationLogs"
    actions = [
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/kinesis-analytics/${local.flink_app_name}:*",
    ]
  }

  statement {
    sid       = "FindLogGroup"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
  }
}

resource "aws_iam_role" "flink" {
  count = var.create_flink_application ? 1 : 0

  name               = "${local.flink_app_name}-flink"
  assume_role_policy = data.aws_iam_policy_document.flink_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "flink" {
  count = var.create_flink_application ? 1 : 0

  name   = "anomaly-rules"
  role   = aws_iam_role.flink[0].id
  policy = data.aws_iam_policy_document.flink.json
}

resource "aws_kinesisanalyticsv2_application" "this" {
  count = var.create_flink_application ? 1 : 0

  name                   = local.flink_app_name
  description            = "Event-time anomaly rules (sql/realtime) over the events stream"
  runtime_environment    = "FLINK-1_20"
  service_execution_role = aws_iam_role.flink[0].arn
  start_application      = var.start_flink_application

  application_configuration {
    application_code_configuration {
      code_content_type = "ZIPFILE"
      code_content {
        s3_content_location {
          bucket_arn     = var.artifacts_bucket_arn
          file_key       = aws_s3_object.flink_code[0].key
          object_version = aws_s3_object.flink_code[0].version_id
        }
      }
    }

    environment_properties {
      # The group Managed Flink reads to start a Python application.
      property_group {
        property_group_id = "kinesis.analytics.flink.run.options"
        property_map      = local.flink_run_options
      }
      property_group {
        property_group_id = "ecomm.streams"
        property_map      = local.flink_streams
      }
      property_group {
        property_group_id = "ecomm.rules"
        property_map      = local.flink_rules
      }
    }

    flink_application_configuration {
      checkpoint_configuration {
        configuration_type = "DEFAULT"
      }
      monitoring_configuration {
        configuration_type = "CUSTOM"
        log_level          = var.flink_log_level
        metrics_level      = "APPLICATION"
      }
      parallelism_configuration {
        configuration_type   = "CUSTOM"
        auto_scaling_enabled = false
        parallelism          = var.flink_parallelism
        parallelism_per_kpu  = 1
      }
    }

    application_snapshot_configuration {
      snapshots_enabled = true
    }
  }

  cloudwatch_logging_options {
    log_stream_arn = aws_cloudwatch_log_stream.flink[0].arn
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.flink]
}

# --- offenders table, alerts topic, DLQ --------------------------------------------------------

resource "aws_dynamodb_table" "this" {
  name                        = "${var.name_prefix}-offenders"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.offenders_table_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# Blocks and the allowlist, one item per user: their own table (see the README, "Mitigation"),
# read on the storefront's hot path by the lookup, whose role can read nothing else.
resource "aws_dynamodb_table" "mitigation" {
  name                        = "${var.name_prefix}-mitigation"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.offenders_table_deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }

  # Tidying only: every read checks `until` itself (TTL deletes up to days late).
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_sns_topic" "this" {
  name              = "${var.name_prefix}-alerts"
  kms_master_key_id = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "OwnerAccountPublishes"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch alarms and the EventBridge rule of the monitoring module publish as services,
  # each only for this platform's alarms and rules.
  statement {
    sid       = "AlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name_prefix}-*"]
    }
  }

  statement {
    sid       = "EventRulesPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.name_prefix}-*"]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alert_email == null ? 0 : 1

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

resource "aws_sqs_queue" "this" {
  name                      = "${var.name_prefix}-alerting-dlq"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = var.dlq_message_retention_seconds

  tags = var.tags
}

# --- alerting Lambda ---------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${local.lambda_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid = "ReadAnomaliesStream"
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
    sid = "WriteOffenders"
    actions = [
      "dynamodb:DeleteItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]
    # DeleteItem: when the SNS send fails, the handler removes the offender item it wrote, so
    # the retry alerts instead of finding a duplicate (lambdas/alerting/handler.py).
    resources = [aws_dynamodb_table.this.arn]
  }

  # GetItem: the user's allowlist entry, read before anything is written; UpdateItem: the
  # block, set only when it ends later than the current one and no allowlist entry is in force
  # (one conditional write on the user's item).
  statement {
    sid = "ReadAllowlistWriteBlocks"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:UpdateItem",
    ]
    resources = [aws_dynamodb_table.mitigation.arn]
  }

  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
  }

  # The event source mapping sends failed batches' metadata with the function's role.
  statement {
    sid       = "SendFailuresToDlq"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]
  }

  statement {
    sid = "UsePlatformKey"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
    ]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "WriteFunctionLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions: "*" is the
  # only resource they accept.
  statement {
    sid = "WriteTraces"
    actions = [
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${local.lambda_name}-lambda"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "lambda" {
  name   = "alerting"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked only by a Kinesis event source mapping, whose on-failure destination (the SQS DLQ) catches failures; an async DLQ would never receive anything.
  #checkov:skip=CKV_AWS_117:Talks only to regional AWS APIs (DynamoDB, SNS, SQS, CloudWatch); no private resources justify a VPC and its NAT costs.
  #checkov:skip=CKV_AWS_272:The zip is built reproducibly by `ecomm plan` and hashed at plan time (source_code_hash); code signing needs a Signer profile outside this project.
  function_name                  = local.lambda_name
  description                    = "Turns anomalies into offender items and rate-limited SNS alerts"
  role                           = aws_iam_role.lambda.arn
  runtime                        = var.lambda_runtime
  handler                        = "alerting.handler.lambda_handler"
  filename                       = var.lambda_zip_path
  source_code_hash               = filebase64sha256(var.lambda_zip_path)
  memory_size                    = var.lambda_memory_mb
  timeout                        = var.lambda_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrency
  layers                         = var.lambda_layers
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      OFFENDERS_TABLE              = aws_dynamodb_table.this.name
      ALERTS_TOPIC_ARN             = aws_sns_topic.this.arn
      ALERT_COOLDOWN_SECONDS       = tostring(local.alert_cooldown_seconds)
      OFFENDERS_TTL_DAYS           = tostring(var.offenders_ttl_days)
      MITIGATION_TABLE             = aws_dynamodb_table.mitigation.name
      BLOCK_SECONDS                = jsonencode(local.block_seconds)
      POWERTOOLS_METRICS_NAMESPACE = var.metric_namespace
      POWERTOOLS_SERVICE_NAME      = "alerting"
    }
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.lambda, aws_cloudwatch_log_group.lambda]
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = aws_kinesis_stream.this.arn
  function_name                      = aws_lambda_function.this.arn
  starting_position                  = var.lambda_starting_position
  batch_size                         = var.lambda_batch_size
  maximum_batching_window_in_seconds = var.lambda_maximum_batching_window_seconds
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = var.lambda_maximum_retry_attempts
  maximum_record_age_in_seconds      = var.lambda_maximum_record_age_seconds
  parallelization_factor             = var.lambda_parallelization_factor
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.this.arn
    }
  }

  lifecycle {
    precondition {
      condition     = var.lambda_reserved_concurrency == null || try(var.lambda_reserved_concurrency >= var.anomalies_shard_count * var.lambda_parallelization_factor, false)
      error_message = "lambda_reserved_concurrency must be at least anomalies_shard_count x lambda_parallelization_factor, or the mapping is throttled."
    }
  }
}

# --- the storefront's block lookup ---------------------------------------------------------------

resource "aws_cloudwatch_log_group" "lookup" {
  name              = "/aws/lambda/${local.lookup_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "lookup" {
  # One GetItem per lookup: the user's item, block and allowlist entry (lambdas/blocks).
  statement {
    sid       = "ReadBlocksAndAllowlist"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.mitigation.arn]
  }

  # The table is SSE-KMS with the platform key: decrypt through DynamoDB only.
  statement {
    sid       = "UsePlatformKeyThroughDynamoDB"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid = "WriteFunctionLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.lookup.arn}:*"]
  }

  # X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions.
  statement {
    sid = "WriteTraces"
    actions = [
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ]
    resources = ["*"]
  }
}

resource "aws_iam_role" "lookup" {
  name               = "${local.lookup_name}-lambda"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "lookup" {
  name   = "blocks-lookup"
  role   = aws_iam_role.lookup.id
  policy = data.aws_iam_policy_document.lookup.json
}

resource "aws_lambda_function" "lookup" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously through its function URL only; a failed lookup is answered (the storefront fails open), there is no asynchronous event to keep.
  #checkov:skip=CKV_AWS_117:Talks only to DynamoDB's regional API; no private resources justify a VPC and its NAT costs on the storefront's hot path.
  #checkov:skip=CKV_AWS_272:The zip is built reproducibly by `ecomm plan` and hashed at plan time (source_code_hash); code signing needs a Signer profile outside this project.
  function_name                  = local.lookup_name
  description                    = "Answers the storefront's GET /blocks/{user_id} from the mitigation table"
  role                           = aws_iam_role.lookup.arn
  runtime                        = var.lambda_runtime
  handler                        = "blocks.handler.lambda_handler"
  filename                       = var.lambda_zip_path
  source_code_hash               = filebase64sha256(var.lambda_zip_path)
  memory_size                    = var.lookup_memory_mb
  timeout                        = var.lookup_timeout_seconds
  reserved_concurrent_executions = var.lookup_reserved_concurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = {
      MITIGATION_TABLE = aws_dynamodb_table.mitigation.name
    }
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.lookup, aws_cloudwatch_log_group.lookup]
}

# Every request must be SigV4-signed by a principal of this account allowed
# lambda:InvokeFunctionUrl (the storefront policy below); there is no resource policy, so no
# other account can call it.
resource "aws_lambda_function_url" "lookup" {
  function_name      = aws_lambda_function.lookup.function_name
  authorization_type = "AWS_IAM"
}

# For the storefront's role: invoke the lookup through its URL, and nothing else.
data "aws_iam_policy_document" "storefront" {
  statement {
    sid       = "LookUpBlocks"
    actions   = ["lambda:InvokeFunctionUrl"]
    resources = [aws_lambda_function.lookup.arn]
    condition {
      test     = "StringEquals"
      variable = "lambda:FunctionUrlAuthType"
      values   = ["AWS_IAM"]
    }
  }
}

resource "aws_iam_policy" "storefront" {
  name        = "${local.lookup_name}-storefront"
  description = "Call the block lookup (GET /blocks/{user_id}) of ${var.name_prefix} through its function URL."
  policy      = data.aws_iam_policy_document.storefront.json

  tags = var.tags
}

# For whoever lets customers through (`ecomm alerts allow | unblock`): set allowlist entries
# and remove blocks (each one UpdateItem of the user's item), nothing else. Listing them is the
# operator policy's Scan.
data "aws_iam_policy_document" "allowlist_admin" {
  statement {
    sid       = "ManageAllowlistAndBlocks"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.mitigation.arn]
  }

  statement {
    sid       = "UseThePlatformKeyThroughDynamoDB"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "allowlist_admin" {
  name        = "${var.name_prefix}-allowlist-admin"
  description = "Run ecomm alerts allow and unblock against ${var.name_prefix}: allowlist entries and blocks in its mitigation table."
  policy      = data.aws_iam_policy_document.allowlist_admin.json

  tags = var.tags
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  database_name = replace(var.name_prefix, "-", "_")
  job_name      = "${var.name_prefix}-curate-events"
  events_table  = "events"

  # The job switches the curated table's partitions itself (glue:GetPartitions and the batch
  # create/update calls), and IAM checks each catalog call against all three ARNs.
  catalog_arns = [
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${local.database_name}",
    "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.database_name}/${local.events_table}",
  ]

  raw_bucket_arn        = "arn:${local.partition}:s3:::${var.raw_bucket_name}"
  curated_bucket_arn    = "arn:${local.partition}:s3:::${var.curated_bucket_name}"
  quarantine_bucket_arn = "arn:${local.partition}:s3:::${var.quarantine_bucket_name}"
  artifacts_bucket_arn  = "arn:${local.partition}:s3:::${var.artifacts_bucket_name}"

  raw_location        = "s3://${var.raw_bucket_name}/${var.raw_events_prefix}"
  curated_location    = "s3://${var.curated_bucket_name}/events/"
  quarantine_location = "s3://${var.quarantine_bucket_name}/events/"
  script_key          = "glue/curate_events.py"
  temp_location       = "s3://${var.artifacts_bucket_name}/glue/tmp/"

  # Spark's file system checks a folder by its bare key and by an EMRFS `<key>_$folder$` marker,
  # besides the objects under it: a grant on `prefix/*` alone fails those checks.
  raw_events_key = trimsuffix(var.raw_events_prefix, "/")
  raw_event_keys = [
    "${local.raw_bucket_arn}/${local.raw_events_key}",
    "${local.raw_bucket_arn}/${local.raw_events_key}_$folder$",
    "${local.raw_bucket_arn}/${local.raw_events_key}/*",
  ]
  zone_event_keys = flatten([
    for arn in [local.curated_bucket_arn, local.quarantine_bucket_arn] :
    ["${arn}/events", "${arn}/events_$folder$", "${arn}/events/*"]
  ])
  temp_keys = [
    "${local.artifacts_bucket_arn}/glue/tmp",
    "${local.artifacts_bucket_arn}/glue/tmp_$folder$",
    "${local.artifacts_bucket_arn}/glue/tmp/*",
  ]

  # Glue 5 writes the job's driver and executor logs to <prefix>/output and <prefix>/error
  # (--custom-logGroup-prefix); the groups are made here so they have retention and the key.
  log_group_prefix = "/aws-glue/jobs/${var.name_prefix}"
  log_groups       = toset(["output", "error"])

  # The event contract (ARCHITECTURE.md). Raw keeps event_time as the producer's ISO-8601 string;
  # the Glue job types it, so a malformed value is quarantined instead of silently nulled.
  contract_columns = [
    { name = "event_type", type = "string", comment = "view, cart, remove_from_cart or purchase" },
    { name = "product_id", type = "bigint", comment = "" },
    { name = "category_id", type = "bigint", comment = "19-digit id: bigint, never a float" },
    { name = "category_code", type = "string", comment = "dotted category path, null when unknown" },
    { name = "brand", type = "string", comment = "" },
    { name = "price", type = "decimal(12,2)", comment = "at most two decimals" },
    { name = "user_id", type = "bigint", comment = "" },
    { name = "user_session", type = "string", comment = "null when the event has no session" },
  ]

  raw_columns = concat(
    [{ name = "event_time", type = "string", comment = "ISO-8601 UTC, e.g. 2019-10-01T00:00:00Z" }],
    local.contract_columns,
    [{ name = "ingested_at", type = "string", comment = "ISO-8601 UTC, set by the producer" }],
  )

  curated_columns = concat(
    [{ name = "event_time", type = "timestamp", comment = "UTC" }],
    local.contract_columns,
    [
      { name = "ingested_at", type = "timestamp", comment = "UTC" },
      { name = "event_hour", type = "int", comment = "hour of event_time, 0-23 (UTC)" },
      { name = "event_weekday", type = "int", comment = "ISO day of week of event_time, 1 = Monday" },
      { name = "top_category", type = "string", comment = "first segment of category_code" },
    ],
  )
}

resource "aws_glue_catalog_database" "this" {
  name        = local.database_name
  description = "ecomm clickstream: raw and curated events (${var.name_prefix})"
  tags        = var.tags
}

# Partition projection computes partitions from the key layout, so neither a crawler nor
# MSCK REPAIR is needed and new hours are queryable the moment Firehose writes them.
resource "aws_glue_catalog_table" "raw_events" {
  name          = "raw_events"
  database_name = aws_glue_catalog_database.this.name
  description   = "Events as Firehose delivered them: GZIP JSON lines, one object per event."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "classification"                       = "json"
    "compressionType"                      = "gzip"
    "EXTERNAL"                             = "TRUE"
    "projection.enabled"                   = "true"
    "projection.ingest_date.type"          = "date"
    "projection.ingest_date.format"        = "yyyy-MM-dd"
    "projection.ingest_date.range"         = "${var.projection_start_date},NOW"
    "projection.ingest_date.interval"      = "1"
    "projection.ingest_date.interval.unit" = "DAYS"
    "projection.hour.type"                 = "integer"
    "projection.hour.range"                = "0,23"
    "projection.hour.digits"               = "2"
    "storage.location.template"            = "${local.raw_location}ingest_date=$${ingest_date}/hour=$${hour}/"
  }

  partition_keys {
    name = "ingest_date"
    type = "string"
  }

  partition_keys {
    name = "hour"
    type = "int"
  }

  storage_descriptor {
    location      = local.raw_location
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      name                  = "json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = {
        # A malformed line must not fail a whole query over the raw zone; the Glue job counts it.
        "ignore.malformed.json" = "true"
      }
    }

    dynamic "columns" {
      for_each = local.raw_columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}

# Catalog partitions, not projection: each run writes a day's new files under a prefix of its
# own (runs/<run id>/event_date=D/) and then points the day's partition there in one update,
# so a query reads a complete day, old or new. Projection can only compute a fixed template.
resource "aws_glue_catalog_table" "events" {
  name          = local.events_table
  database_name = aws_glue_catalog_database.this.name
  description   = "Curated events: typed, deduplicated, Parquet, partitioned by event_date; the Glue job creates and switches the partitions."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "classification"      = "parquet"
    "EXTERNAL"            = "TRUE"
    "parquet.compression" = "SNAPPY"
  }

  partition_keys {
    name = "event_date"
    type = "string"
  }

  storage_descriptor {
    location      = local.curated_location
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      name                  = "parquet"
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = local.curated_columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}

resource "aws_s3_object" "glue_script" {
  bucket                 = var.artifacts_bucket_name
  key                    = local.script_key
  source                 = var.glue_script_path
  source_hash            = filemd5(var.glue_script_path)
  content_type           = "text/x-python"
  server_side_encryption = "aws:kms"
  kms_key_id             = var.kms_key_arn
  tags                   = var.tags
}

resource "aws_cloudwatch_log_group" "job" {
  for_each = local.log_groups

  name              = "${local.log_group_prefix}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_glue_security_configuration" "this" {
  # checkov:skip=CKV_AWS_99:The job's log groups are made by Terraform with the platform key and retention, so its logs are encrypted at rest; Glue's own CloudWatch encryption would write to groups named after the security configuration instead, which nothing gives retention.
  name = "${var.name_prefix}-glue"

  encryption_configuration {
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }

    cloudwatch_encryption {
      cloudwatch_encryption_mode = "DISABLED"
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
  }
}

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name_prefix}-glue-curate-events"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "glue_job" {
  statement {
    sid     = "ListZones"
    actions = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [
      local.raw_bucket_arn,
      local.curated_bucket_arn,
      local.quarantine_bucket_arn,
      local.artifacts_bucket_arn,
    ]
  }

  statement {
    sid       = "ReadRawZone"
    actions   = ["s3:GetObject"]
    resources = local.raw_event_keys
  }

  statement {
    sid       = "WriteCuratedAndQuarantine"
    actions   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = local.zone_event_keys
  }

  # Day folders no reader is sent to any more get the retired tag; the lake's lifecycle rule
  # on the curated bucket expires objects with it.
  statement {
    sid       = "RetireCuratedRuns"
    actions   = ["s3:PutObjectTagging"]
    resources = ["${local.curated_bucket_arn}/events/*"]
  }

  statement {
    sid = "SwitchCuratedPartitions"
    actions = [
      "glue:BatchCreatePartition",
      "glue:BatchUpdatePartition",
      "glue:GetPartitions",
      "glue:GetTable",
    ]
    resources = local.catalog_arns
  }

  statement {
    sid       = "ReadScript"
    actions   = ["s3:GetObject"]
    resources = ["${local.artifacts_bucket_arn}/${local.script_key}"]
  }

  statement {
    sid       = "UseTempDir"
    actions   = ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    resources = local.temp_keys
  }

  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "WriteJobLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for group in aws_cloudwatch_log_group.job : "${group.arn}:*"]
  }

  # cloudwatch:PutMetricData has no resource-level permission: "*" is required, so the
  # namespace condition is what scopes it: Glue's job metrics (--enable-metrics, published
  # with this role) and the platform's CurationSucceeded heartbeat, nothing else.
  statement {
    sid       = "PublishJobMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue", var.metric_namespace]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "curate-events"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.glue_job.json
}

resource "aws_glue_job" "this" {
  name                   = local.job_name
  description            = "Cleans, types and deduplicates raw events into the curated zone; rejects go to quarantine with a reason."
  role_arn               = aws_iam_role.this.arn
  glue_version           = "5.0"
  execution_class        = "STANDARD"
  worker_type            = var.worker_type
  number_of_workers      = var.number_of_workers
  timeout                = var.job_timeout_minutes
  max_retries            = var.job_max_retries
  security_configuration = aws_glue_security_configuration.this.name

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${var.artifacts_bucket_name}/${aws_s3_object.glue_script.key}"
  }

  default_arguments = {
    "--job-language"        = "python"
    "--enable-metrics"      = "true"
    "--enable-job-insights" = "true"
    # Glue 5 always logs in real time (the 4.0 flag --enable-continuous-cloudwatch-log is
    # ignored); the prefix puts the logs in the groups above.
    "--custom-logGroup-prefix" = local.log_group_prefix
    # The end of a successful run publishes CurationSucceeded here (the heartbeat alarm).
    "--metric_namespace" = var.metric_namespace
    # A run with no other argument (the scheduled trigger's) reads the raw objects no
    # successful run has curated (the job's ledger under events/_state/), not bookmarks: they
    # do not run locally, and the job merges each touched day with what it holds itself.
    "--job-bookmark-option" = "job-bookmark-disable"
    "--TempDir"             = local.temp_location
    "--raw_path"            = local.raw_location
    "--curated_path"        = local.curated_location
    "--quarantine_path"     = local.quarantine_location
    "--catalog_database"    = local.database_name
    "--catalog_table"       = local.events_table
    "--retired_tag"         = "${var.retired_object_tag.key}=${var.retired_object_tag.value}"
  }

  execution_property {
    # Two overlapping runs would race on the same event_date partitions and the ledger; a
    # trigger that fires during a run fails at once, and the next one reads what it missed.
    max_concurrent_runs = 1
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.job]
}

resource "aws_glue_trigger" "this" {
  count = var.schedule == null ? 0 : 1

  name     = "${local.job_name}-schedule"
  type     = "SCHEDULED"
  schedule = var.schedule

  actions {
    job_name = aws_glue_job.this.name
  }

  tags = var.tags
}

# Glue Data Quality instead of a DataBrew profile job: the aws provider has no DataBrew resource,
# and DQDL rules state the event contract as assertions that fail a run (see README.md).
resource "aws_glue_data_quality_ruleset" "this" {
  count = var.create_data_quality_ruleset ? 1 : 0

  name        = "${var.name_prefix}-events-contract"
  description = "The event contract over the curated events table."
  ruleset     = <<-DQDL
    Rules = [
      RowCount > 0,
      IsComplete "event_time",
      IsComplete "event_type",
      ColumnValues "event_type" in ["view", "cart", "remove_from_cart", "purchase"],
      IsComplete "product_id",
      IsComplete "user_id",
      IsComplete "price",
      ColumnValues "price" >= 0,
      ColumnValues "event_hour" >= 0,
      ColumnValues "event_hour" <= 23,
      ColumnValues "event_weekday" in [1, 2, 3, 4, 5, 6, 7]
    ]
  DQDL

  target_table {
    database_name = aws_glue_catalog_database.this.name
    table_name    = aws_glue_catalog_table.events.name
  }

  tags = var.tags
}

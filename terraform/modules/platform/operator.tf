# What a person (or CI) needs to run the data commands against this environment, and nothing
# more: `ecomm replay` (into the events stream), `ecomm etl run --glue`, `ecomm kpi` and
# `ecomm report` on Athena (which reads the catalog and the curated zone, and writes results,
# with the caller's own permissions), `ecomm alerts`. Reading the environment's Terraform state
# is the bootstrap's state_reader_policy_json. The rehearsal test checks every call these
# commands make against this document (tests/permissions).

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  arn_prefix = "arn:${local.partition}"
  glue_arn   = "${local.arn_prefix}:glue:${var.region}:${local.account_id}"
}

data "aws_iam_policy_document" "operator" {
  statement {
    sid = "ReplayIntoTheEventsStream"
    actions = [
      "kinesis:ListShards",
      "kinesis:PutRecords",
    ]
    resources = [module.ingest.events_stream_arn]
  }

  statement {
    sid       = "RunTheCurationJob"
    actions   = ["glue:GetJobRun", "glue:StartJobRun"]
    resources = [module.catalog.glue_job_arn]
  }

  statement {
    sid = "QueryInTheWorkgroup"
    actions = [
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:StartQueryExecution",
      "athena:StopQueryExecution",
    ]
    resources = [module.analytics.workgroup_arn]
  }

  # Athena reads the catalog with the caller's permissions, and the events table's partitions
  # (the Glue job points each day at its current run folder).
  statement {
    sid     = "ReadTheCatalog"
    actions = ["glue:GetDatabase", "glue:GetPartitions", "glue:GetTable"]
    resources = [
      "${local.glue_arn}:catalog",
      "${local.glue_arn}:database/${module.catalog.database_name}",
      "${local.glue_arn}:table/${module.catalog.database_name}/${module.catalog.events_table_name}",
    ]
  }

  # ... and the curated zone (partition projection: no listing of other prefixes needed).
  statement {
    sid       = "ListTheCuratedZone"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [module.lake.curated_bucket_arn]
  }

  statement {
    sid       = "ReadTheCuratedZone"
    actions   = ["s3:GetObject"]
    resources = ["${module.lake.curated_bucket_arn}/events/*"]
  }

  # ... and writes the results where the workgroup says (results/).
  statement {
    sid = "WriteQueryResults"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetObject",
      "s3:ListMultipartUploadParts",
      "s3:PutObject",
    ]
    resources = ["${module.lake.athena_results_bucket_arn}/results/*"]
  }

  statement {
    sid       = "ListTheResults"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [module.lake.athena_results_bucket_arn]
  }

  # The offenders, and the blocks and allowlist (`ecomm alerts list --active`, the report).
  statement {
    sid       = "ReadTheOffenders"
    actions   = ["dynamodb:Scan"]
    resources = [module.realtime.offenders_table_arn, module.realtime.mitigation_table_arn]
  }

  # DescribeAlarms is a list call, authorised against every alarm (the CLI filters by the
  # platform's name prefix); it reads alarm states only.
  statement {
    sid       = "ReadTheAlarmStates"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["${local.arn_prefix}:cloudwatch:${var.region}:${local.account_id}:alarm:*"]
  }

  # Every store above is encrypted with the platform key: through those services only.
  statement {
    sid       = "UseThePlatformKeyThroughItsServices"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.lake.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        for service in ["dynamodb", "kinesis", "s3"] :
        "${service}.${var.region}.amazonaws.com"
      ]
    }
  }
}

resource "aws_iam_policy" "operator" {
  name        = "${var.name_prefix}-operator"
  description = "Run ecomm replay, etl, kpi, report and alerts against ${var.name_prefix} (see the platform module's operator_policy_json)."
  policy      = data.aws_iam_policy_document.operator.json
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition

  # One bucket per data zone: each zone has its own lifecycle, and access is granted per bucket
  # (the Glue job writes curated, Firehose writes raw, Athena writes results), so a bucket ARN
  # is the natural least-privilege boundary. See README.md.
  buckets = {
    raw = {
      transition_to_ia_days = var.raw_transition_to_ia_days
      expiration_days       = var.raw_expiration_days
    }
    curated = {
      transition_to_ia_days = null
      expiration_days       = null
    }
    quarantine = {
      transition_to_ia_days = null
      expiration_days       = var.quarantine_expiration_days
    }
    athena-results = {
      transition_to_ia_days = null
      expiration_days       = var.athena_results_expiration_days
    }
    artifacts = {
      transition_to_ia_days = null
      expiration_days       = null
    }
  }
}

# One customer-managed key for the whole platform: S3, Kinesis, Firehose, Glue, CloudWatch Logs,
# SNS, SQS and DynamoDB encrypt with it, and access is governed by IAM through the root statement.
resource "aws_kms_key" "this" {
  description             = "${var.name_prefix} data platform key"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-data"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself, not every resource; principals are the account root and service principals (logs and CloudWatch scoped by conditions, EventBridge cannot be: see its statement).
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself (KMS key policies cannot name another resource).
  # checkov:skip=CKV_AWS_109:Key administration is delegated to the account root so IAM policies govern it (the AWS default key policy), without kms:*.
  # Key administration and use by the account's IAM principals: IAM policies then decide who may
  # use the key (the default key policy, spelled out instead of kms:*).
  statement {
    sid = "AccountAdministersAndUsesTheKey"
    actions = [
      "kms:CancelKeyDeletion",
      "kms:Create*",
      "kms:Decrypt",
      "kms:Delete*",
      "kms:Describe*",
      "kms:Disable*",
      "kms:Enable*",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:Get*",
      "kms:List*",
      "kms:Put*",
      "kms:ReEncrypt*",
      "kms:Revoke*",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:Update*",
    ]
    # In a key policy "*" means this key.
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # Encrypted log groups (Firehose, Lambda, Glue, Flink) need the CloudWatch Logs service.
  statement {
    sid = "CloudWatchLogsEncryptsLogGroups"
    actions = [
      "kms:Decrypt*",
      "kms:Describe*",
      "kms:Encrypt*",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # CloudWatch alarms publish to the KMS-encrypted SNS alerts topic. CloudWatch's requests carry
  # the alarm as aws:SourceArn, so the grant holds only for this platform's alarms.
  statement {
    sid       = "AlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
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

  # The EventBridge rule on failed Glue runs publishes to the same topic. EventBridge's KMS
  # requests carry no aws:SourceAccount / aws:SourceArn (the SNS developer guide: those
  # conditions are not supported for EventBridge to an encrypted topic), so a statement
  # conditioned on them would drop every notification; the topic policy scopes the rule instead.
  statement {
    sid       = "EventBridgePublishesToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  # checkov:skip=CKV_AWS_18:Server access logs would need an SSE-S3 target bucket (S3 cannot write them with SSE-KMS); CloudTrail data events are the audit trail.
  # checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice per deployment, not a module default; raw data can be replayed from the source.
  # checkov:skip=CKV2_AWS_62:No consumer reacts to object events: Glue runs on a schedule and Athena reads through partition projection.
  bucket        = "${var.name_prefix}-${each.key}-${local.account_id}"
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { "ecomm:zone" = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    # S3 Bucket Keys cut KMS requests (and cost) by orders of magnitude for Firehose and Spark.
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[each.key].arn,
      "${aws_s3_bucket.this[each.key].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  # Public access block first, so the policy is never evaluated against an open bucket.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  # checkov:skip=CKV_AWS_300:The zone-retention rule aborts incomplete uploads after 7 days for every object; S3 refuses AbortIncompleteMultipartUpload in the tag-filtered retired-runs rule, which checkov flags.
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = "zone-retention"
    status = "Enabled"

    filter {}

    dynamic "transition" {
      for_each = local.buckets[each.key].transition_to_ia_days == null ? [] : [local.buckets[each.key].transition_to_ia_days]
      content {
        days          = transition.value
        storage_class = "STANDARD_IA"
      }
    }

    dynamic "expiration" {
      for_each = local.buckets[each.key].expiration_days == null ? [] : [local.buckets[each.key].expiration_days]
      content {
        days = expiration.value
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # The Glue job writes each day's new files under a folder of its own run, switches the day's
  # catalog partition there, and tags the files of the folder no reader is sent to any more:
  # only those expire. S3 counts the days from the object's creation, not from the tagging.
  dynamic "rule" {
    for_each = each.key == "curated" ? [var.curated_retired_tag] : []
    content {
      id     = "retired-curated-runs"
      status = "Enabled"

      filter {
        tag {
          key   = rule.value.key
          value = rule.value.value
        }
      }

      expiration {
        days = var.curated_retired_expiration_days
      }
    }
  }

  # Lifecycle rules act on versions, so versioning must exist first.
  depends_on = [aws_s3_bucket_versioning.this]
}

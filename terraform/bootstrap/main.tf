# Run once per AWS account, with local state, before the first `ecomm apply --env dev|prod`.
# It makes the S3 bucket the dev/prod backends keep their state in; Terraform >= 1.10 locks with
# a lock file in that bucket (use_lockfile), so no DynamoDB lock table is needed.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      project     = "ecomm"
      environment = "bootstrap"
      managed_by  = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  bucket_name = coalesce(var.state_bucket_name, "ecomm-tfstate-${local.account_id}")
  # The state object of each environment (its backend.hcl `key`).
  state_keys = { for env in var.environments : env => "ecomm/${env}/terraform.tfstate" }
}

resource "aws_kms_key" "this" {
  description             = "ecomm Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/ecomm-tfstate"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" is the key itself; the only principal is the account root, so IAM policies govern use.
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" is the key itself (KMS key policies cannot name another resource).
  # checkov:skip=CKV_AWS_109:Key administration is delegated to the account root (the AWS default key policy), without kms:*.
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
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_18:Server access logs would need an SSE-S3 target bucket; CloudTrail records state reads and writes.
  # checkov:skip=CKV_AWS_144:State is small and versioned; cross-region replication is an account-level DR choice.
  # checkov:skip=CKV2_AWS_62:Nothing reacts to state object events.
  bucket = local.bucket_name

  # The state of every environment lives here: never delete it with objects inside.
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
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
  bucket     = aws_s3_bucket.this.id
  policy     = data.aws_iam_policy_document.tls_only.json
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "old-state-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# What reading one environment's state takes (the CLI reads names from its outputs): with the
# platform's operator policy, all a person running `ecomm replay | etl | kpi | alerts` needs.
data "aws_iam_policy_document" "state_reader" {
  for_each = local.state_keys

  # `terraform init` lists the bucket (workspaces); nothing else is readable through it.
  statement {
    sid       = "ListTheStateBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.this.arn]
  }

  statement {
    sid       = "ReadTheState"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.this.arn}/${each.value}"]
  }

  statement {
    sid       = "DecryptTheState"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
}

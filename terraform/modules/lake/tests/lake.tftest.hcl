mock_provider "aws" {
  source = "../../mocks/aws"
}

variables {
  name_prefix = "ecomm-test"
}

run "plans_five_hardened_buckets" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket.this) == 5
    error_message = "The lake must have exactly five buckets."
  }

  assert {
    condition     = toset(keys(aws_s3_bucket.this)) == toset(["raw", "curated", "quarantine", "athena-results", "artifacts"])
    error_message = "Bucket roles changed."
  }

  assert {
    condition     = aws_s3_bucket.this["raw"].bucket == "ecomm-test-raw-123456789012"
    error_message = "Bucket names must be prefix-role-account."
  }

  assert {
    condition     = alltrue([for b in aws_s3_bucket_versioning.this : b.versioning_configuration[0].status == "Enabled"])
    error_message = "Every bucket must be versioned."
  }

  assert {
    condition     = alltrue([for e in aws_s3_bucket_server_side_encryption_configuration.this : one(e.rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" && one(e.rule).bucket_key_enabled])
    error_message = "Every bucket must use SSE-KMS with the bucket key on."
  }

  assert {
    condition     = alltrue([for p in aws_s3_bucket_public_access_block.this : p.block_public_acls && p.block_public_policy && p.ignore_public_acls && p.restrict_public_buckets])
    error_message = "Every bucket must block public access."
  }

  assert {
    condition     = length(aws_s3_bucket_policy.this) == 5
    error_message = "Every bucket needs its TLS-only policy."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "KMS key rotation must be on."
  }

  assert {
    condition     = alltrue([for b in aws_s3_bucket.this : b.force_destroy == false])
    error_message = "force_destroy must default to false."
  }

  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.this["athena-results"].rule).expiration[0].days == 7
    error_message = "Athena results must expire after 7 days by default."
  }

  assert {
    condition     = length([for r in aws_s3_bucket_lifecycle_configuration.this["curated"].rule : r if r.id == "zone-retention"][0].expiration) == 0
    error_message = "Curated data must never expire (only the files a newer run replaced)."
  }

  assert {
    condition = (
      length([for r in aws_s3_bucket_lifecycle_configuration.this["curated"].rule : r if r.id == "retired-curated-runs"]) == 1
      && [for r in aws_s3_bucket_lifecycle_configuration.this["curated"].rule : r if r.id == "retired-curated-runs"][0].filter[0].tag[0].key == "ecomm-lifecycle"
      && [for r in aws_s3_bucket_lifecycle_configuration.this["curated"].rule : r if r.id == "retired-curated-runs"][0].filter[0].tag[0].value == "superseded"
      && [for r in aws_s3_bucket_lifecycle_configuration.this["curated"].rule : r if r.id == "retired-curated-runs"][0].expiration[0].days == 2
      && alltrue([for k, c in aws_s3_bucket_lifecycle_configuration.this : length(c.rule) == 1 if k != "curated"])
    )
    error_message = "Only the curated bucket expires objects with the retired tag, 2 days after their creation by default."
  }
}

run "rejects_empty_retired_tag" {
  command = plan
  variables {
    curated_retired_tag = { key = "", value = "superseded" }
  }
  expect_failures = [var.curated_retired_tag]
}

run "tls_only_policy_denies_insecure_transport" {
  command = plan

  # The real policy document (not the mocked one) is checked in the policy tests; here the
  # statement inputs are asserted.
  assert {
    condition     = alltrue([for d in data.aws_iam_policy_document.tls_only : one(d.statement).effect == "Deny" && one(one(d.statement).condition).variable == "aws:SecureTransport" && one(one(d.statement).condition).values == tolist(["false"])])
    error_message = "Each bucket policy must deny requests without TLS."
  }
}

run "services_that_publish_to_the_encrypted_topic" {
  command = plan

  # EventBridge's KMS requests carry no aws:SourceAccount/SourceArn: its statement must have no
  # such condition, or every Glue-failure notification is dropped. CloudWatch's carry both.
  assert {
    condition = (
      length(flatten([for st in data.aws_iam_policy_document.kms.statement : [for c in coalesce(st.condition, []) : c.variable] if st.sid == "EventBridgePublishesToEncryptedTopic"])) == 0
      && toset(flatten([for st in data.aws_iam_policy_document.kms.statement : [for p in st.principals : tolist(p.identifiers)] if st.sid == "EventBridgePublishesToEncryptedTopic"])) == toset(["events.amazonaws.com"])
    )
    error_message = "EventBridge needs its own key policy statement without source conditions"
  }
  assert {
    condition     = toset(flatten([for st in data.aws_iam_policy_document.kms.statement : [for c in st.condition : c.variable] if st.sid == "AlarmsPublishToEncryptedTopic"])) == toset(["aws:SourceAccount", "aws:SourceArn"])
    error_message = "CloudWatch's statement is scoped to this account's alarms"
  }
}

run "local_stack_force_destroys_and_keeps_raw" {
  command = plan

  variables {
    force_destroy       = true
    raw_expiration_days = null
  }

  assert {
    condition     = alltrue([for b in aws_s3_bucket.this : b.force_destroy])
    error_message = "force_destroy must reach every bucket."
  }

  assert {
    condition     = length(one(aws_s3_bucket_lifecycle_configuration.this["raw"].rule).expiration) == 0
    error_message = "A null raw_expiration_days must keep raw objects forever."
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Ecomm_Dev"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_short_kms_deletion_window" {
  command = plan
  variables {
    kms_deletion_window_in_days = 3
  }
  expect_failures = [var.kms_deletion_window_in_days]
}

run "rejects_early_raw_transition" {
  command = plan
  variables {
    raw_transition_to_ia_days = 10
  }
  expect_failures = [var.raw_transition_to_ia_days]
}

run "rejects_raw_expiration_before_transition" {
  command = plan
  variables {
    raw_expiration_days = 20
  }
  expect_failures = [var.raw_expiration_days]
}

run "rejects_zero_quarantine_expiration" {
  command = plan
  variables {
    quarantine_expiration_days = 0
  }
  expect_failures = [var.quarantine_expiration_days]
}

run "rejects_long_athena_results_expiration" {
  command = plan
  variables {
    athena_results_expiration_days = 400
  }
  expect_failures = [var.athena_results_expiration_days]
}

run "rejects_fractional_noncurrent_expiration" {
  command = plan
  variables {
    noncurrent_version_expiration_days = 1.5
  }
  expect_failures = [var.noncurrent_version_expiration_days]
}

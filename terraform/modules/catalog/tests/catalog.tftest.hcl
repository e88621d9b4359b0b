mock_provider "aws" {
  override_during = plan
  source          = "../../mocks/aws"
}

variables {
  name_prefix            = "ecomm-test"
  kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  raw_bucket_name        = "ecomm-test-raw-123456789012"
  curated_bucket_name    = "ecomm-test-curated-123456789012"
  quarantine_bucket_name = "ecomm-test-quarantine-123456789012"
  artifacts_bucket_name  = "ecomm-test-artifacts-123456789012"
  glue_script_path       = "tests/fixtures/job_script.py"
}

run "catalog_tables_and_job" {
  command = plan

  assert {
    condition     = aws_glue_catalog_database.this.name == "ecomm_test"
    error_message = "The database name must be the prefix with underscores."
  }

  assert {
    condition     = aws_glue_catalog_table.raw_events.parameters["projection.enabled"] == "true" && aws_glue_catalog_table.raw_events.parameters["projection.ingest_date.type"] == "date" && aws_glue_catalog_table.raw_events.parameters["projection.hour.type"] == "integer"
    error_message = "raw_events must project ingest_date (date) and hour (integer)."
  }

  assert {
    condition     = aws_glue_catalog_table.raw_events.parameters["storage.location.template"] == "s3://ecomm-test-raw-123456789012/raw/events/ingest_date=$${ingest_date}/hour=$${hour}/"
    error_message = "raw_events must follow the Firehose key layout."
  }

  assert {
    condition     = aws_glue_catalog_table.raw_events.storage_descriptor[0].ser_de_info[0].serialization_library == "org.openx.data.jsonserde.JsonSerDe"
    error_message = "raw_events must read JSON lines."
  }

  # The job points each day's partition at its run's folder: no projection on events.
  assert {
    condition     = !contains(keys(aws_glue_catalog_table.events.parameters), "projection.enabled") && aws_glue_catalog_table.events.storage_descriptor[0].location == "s3://ecomm-test-curated-123456789012/events/" && one(aws_glue_catalog_table.events.partition_keys).name == "event_date"
    error_message = "events must be partitioned by event_date under the curated bucket's events/ prefix, without projection."
  }

  assert {
    condition = (
      aws_glue_job.this.default_arguments["--catalog_database"] == "ecomm_test"
      && aws_glue_job.this.default_arguments["--catalog_table"] == "events"
      && aws_glue_job.this.default_arguments["--retired_tag"] == "ecomm-lifecycle=superseded"
      && aws_glue_job.this.execution_property[0].max_concurrent_runs == 1
    )
    error_message = "The job must be told the table whose partitions it switches and the retired tag, and run one at a time."
  }

  assert {
    condition = (
      toset(one([for s in data.aws_iam_policy_document.glue_job.statement : s.actions if s.sid == "SwitchCuratedPartitions"])) == toset(["glue:BatchCreatePartition", "glue:BatchUpdatePartition", "glue:GetPartitions", "glue:GetTable"])
      && toset(one([for s in data.aws_iam_policy_document.glue_job.statement : s.resources if s.sid == "SwitchCuratedPartitions"])) == toset([
        "arn:aws:glue:eu-west-1:123456789012:catalog",
        "arn:aws:glue:eu-west-1:123456789012:database/ecomm_test",
        "arn:aws:glue:eu-west-1:123456789012:table/ecomm_test/events",
      ])
    )
    error_message = "The Glue role must switch partitions of the events table only (catalog, database and table ARNs)."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.glue_job.statement : s.resources if s.sid == "RetireCuratedRuns"]) == toset(["arn:aws:s3:::ecomm-test-curated-123456789012/events/*"])
    error_message = "The Glue role may tag curated events objects only."
  }

  assert {
    condition     = !strcontains(aws_glue_data_quality_ruleset.this[0].ruleset, "IsComplete \"user_session\"")
    error_message = "user_session is nullable (events without a session are kept)."
  }

  assert {
    condition     = aws_glue_catalog_table.events.storage_descriptor[0].ser_de_info[0].serialization_library == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    error_message = "events must be Parquet."
  }

  assert {
    condition     = { for c in aws_glue_catalog_table.events.storage_descriptor[0].columns : c.name => c.type }["category_id"] == "bigint"
    error_message = "category_id must be bigint (19 digits never fit a float)."
  }

  assert {
    condition     = { for c in aws_glue_catalog_table.raw_events.storage_descriptor[0].columns : c.name => c.type }["event_time"] == "string" && { for c in aws_glue_catalog_table.events.storage_descriptor[0].columns : c.name => c.type }["event_time"] == "timestamp"
    error_message = "event_time is a string in raw and a timestamp in curated."
  }

  assert {
    condition     = length(setsubtract(["event_hour", "event_weekday", "top_category"], [for c in aws_glue_catalog_table.events.storage_descriptor[0].columns : c.name])) == 0
    error_message = "Curated events must carry the derived columns."
  }

  assert {
    condition     = aws_glue_job.this.glue_version == "5.0" && aws_glue_job.this.execution_class == "STANDARD"
    error_message = "The job must run Glue 5.0 with an explicit STANDARD execution class."
  }

  assert {
    condition     = aws_glue_job.this.command[0].script_location == "s3://ecomm-test-artifacts-123456789012/glue/curate_events.py"
    error_message = "The job must run the uploaded script."
  }

  assert {
    condition     = aws_s3_object.glue_script.source_hash == filemd5("tests/fixtures/job_script.py") && aws_s3_object.glue_script.server_side_encryption == "aws:kms"
    error_message = "The script upload must follow its content and be KMS-encrypted."
  }

  assert {
    condition     = aws_glue_job.this.default_arguments["--raw_path"] == "s3://ecomm-test-raw-123456789012/raw/events/" && aws_glue_job.this.default_arguments["--curated_path"] == "s3://ecomm-test-curated-123456789012/events/" && aws_glue_job.this.default_arguments["--quarantine_path"] == "s3://ecomm-test-quarantine-123456789012/events/"
    error_message = "Job arguments must name the raw, curated and quarantine locations."
  }

  assert {
    condition     = aws_glue_job.this.security_configuration == aws_glue_security_configuration.this.name
    error_message = "The job must use the security configuration."
  }

  assert {
    condition     = aws_glue_security_configuration.this.encryption_configuration[0].s3_encryption[0].s3_encryption_mode == "SSE-KMS" && aws_glue_security_configuration.this.encryption_configuration[0].job_bookmarks_encryption[0].job_bookmarks_encryption_mode == "CSE-KMS"
    error_message = "S3 and bookmarks must be KMS-encrypted."
  }

  # Logs: encrypted by the groups Terraform makes (key and retention), which the job writes to.
  assert {
    condition = (
      toset([for g in aws_cloudwatch_log_group.job : g.name]) == toset(["/aws-glue/jobs/ecomm-test/output", "/aws-glue/jobs/ecomm-test/error"])
      && alltrue([for g in aws_cloudwatch_log_group.job : g.retention_in_days == 365 && g.kms_key_id == var.kms_key_arn])
      && aws_glue_job.this.default_arguments["--custom-logGroup-prefix"] == "/aws-glue/jobs/ecomm-test"
      && !contains(keys(aws_glue_job.this.default_arguments), "--enable-continuous-cloudwatch-log")
    )
    error_message = "The job's log groups must exist with retention and the key, and the job must log to them."
  }

  assert {
    condition     = aws_glue_job.this.default_arguments["--metric_namespace"] == "ecomm"
    error_message = "The job must publish its heartbeat in the platform namespace."
  }

  # Spark checks a folder by its bare key and its _$folder$ marker too.
  assert {
    condition = length(setsubtract([
      "arn:aws:s3:::ecomm-test-curated-123456789012/events",
      "arn:aws:s3:::ecomm-test-curated-123456789012/events_$folder$",
      "arn:aws:s3:::ecomm-test-curated-123456789012/events/*",
      "arn:aws:s3:::ecomm-test-quarantine-123456789012/events_$folder$",
    ], one([for s in data.aws_iam_policy_document.glue_job.statement : s.resources if s.sid == "WriteCuratedAndQuarantine"]))) == 0
    error_message = "The Glue role must cover the prefix keys and folder markers Spark checks."
  }

  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.glue_job.statement : [for c in s.condition : c.values] if s.sid == "PublishJobMetrics"])) == toset(["Glue", "ecomm"])
    error_message = "The Glue role may put metrics only in Glue's namespace and the platform's."
  }

  assert {
    condition     = length(aws_glue_trigger.this) == 0 && output.schedule_trigger_name == null
    error_message = "No schedule by default."
  }

  assert {
    condition     = length(aws_glue_data_quality_ruleset.this) == 1 && strcontains(aws_glue_data_quality_ruleset.this[0].ruleset, "IsComplete \"event_time\"")
    error_message = "The data quality ruleset must check the event contract."
  }

  assert {
    condition     = alltrue(flatten([for s in data.aws_iam_policy_document.glue_job.statement : [for a in s.actions : a != "*" && !endswith(a, ":*")]]))
    error_message = "The Glue role must not use wildcard actions."
  }

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.glue_job.statement : !contains(s.resources, "*") || s.sid == "PublishJobMetrics"])
    error_message = "Only PutMetricData (no resource-level permission) may use a \"*\" resource."
  }
}

run "scheduled_job_without_ruleset" {
  command = plan

  variables {
    schedule                    = "cron(15 * * * ? *)"
    create_data_quality_ruleset = false
  }

  assert {
    condition     = aws_glue_trigger.this[0].schedule == "cron(15 * * * ? *)" && aws_glue_trigger.this[0].actions[0].job_name == "ecomm-test-curate-events"
    error_message = "The trigger must run the job on the schedule."
  }

  assert {
    condition     = output.data_quality_ruleset_name == null
    error_message = "Outputs must be null when the ruleset is off."
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "ecomm_test"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_non_kms_arn" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:s3:::not-a-key"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_raw_bucket" {
  command = plan
  variables {
    raw_bucket_name = "Raw_Bucket"
  }
  expect_failures = [var.raw_bucket_name]
}

run "rejects_bad_curated_bucket" {
  command = plan
  variables {
    curated_bucket_name = "s3://curated"
  }
  expect_failures = [var.curated_bucket_name]
}

run "rejects_bad_quarantine_bucket" {
  command = plan
  variables {
    quarantine_bucket_name = "q"
  }
  expect_failures = [var.quarantine_bucket_name]
}

run "rejects_bad_artifacts_bucket" {
  command = plan
  variables {
    artifacts_bucket_name = "-artifacts"
  }
  expect_failures = [var.artifacts_bucket_name]
}

run "rejects_raw_prefix_without_slash" {
  command = plan
  variables {
    raw_events_prefix = "raw/events"
  }
  expect_failures = [var.raw_events_prefix]
}

run "rejects_bad_projection_start" {
  command = plan
  variables {
    projection_start_date = "01/10/2019"
  }
  expect_failures = [var.projection_start_date]
}

run "rejects_non_python_script" {
  command = plan
  variables {
    glue_script_path = "tests/fixtures/job_script.txt"
  }
  expect_failures = [var.glue_script_path]
}

run "rejects_unknown_worker_type" {
  command = plan
  variables {
    worker_type = "Standard"
  }
  expect_failures = [var.worker_type]
}

run "rejects_single_worker" {
  command = plan
  variables {
    number_of_workers = 1
  }
  expect_failures = [var.number_of_workers]
}

run "rejects_zero_timeout" {
  command = plan
  variables {
    job_timeout_minutes = 0
  }
  expect_failures = [var.job_timeout_minutes]
}

run "rejects_many_retries" {
  command = plan
  variables {
    job_max_retries = 11
  }
  expect_failures = [var.job_max_retries]
}

run "rejects_glue_as_metric_namespace" {
  command = plan

  variables {
    metric_namespace = "Glue"
  }

  expect_failures = [var.metric_namespace]
}

run "rejects_bad_log_retention" {
  command = plan

  variables {
    log_retention_days = 42
  }

  expect_failures = [var.log_retention_days]
}

run "rejects_rate_schedule" {
  command = plan
  variables {
    schedule = "rate(1 hour)"
  }
  expect_failures = [var.schedule]
}

run "rejects_bad_retired_tag" {
  command = plan
  variables {
    retired_object_tag = { key = "", value = "superseded" }
  }
  expect_failures = [var.retired_object_tag]
}

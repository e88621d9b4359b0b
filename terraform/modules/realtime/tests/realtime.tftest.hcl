# Plan-mode tests of the realtime module against a mocked provider (offline, no credentials).

mock_provider "aws" {
  source = "../../mocks/aws"
}

variables {
  # The shipped rules manifest, for the expected defaults (no threshold is written here).
  manifest = jsondecode(file("../../../sql/realtime/rules.json"))

  name_prefix           = "ecomm-test"
  kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
  artifacts_bucket_name = "ecomm-test-artifacts"
  artifacts_bucket_arn  = "arn:aws:s3:::ecomm-test-artifacts"
  events_stream_arn     = "arn:aws:kinesis:eu-west-1:123456789012:stream/ecomm-test-events"
  events_stream_name    = "ecomm-test-events"
  lambda_zip_path       = "tests/fixtures/lambda.zip"
  flink_zip_path        = "tests/fixtures/flink.zip"
}

run "defaults_plan_every_part" {
  command = plan

  assert {
    condition     = aws_kinesis_stream.this.name == "ecomm-test-anomalies" && aws_kinesis_stream.this.encryption_type == "KMS"
    error_message = "the anomalies stream must be named from the prefix and encrypted with KMS"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this[0].start_application
    error_message = "the rules must run after apply by default"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this[0].runtime_environment == "FLINK-1_20"
    error_message = "the Flink application must run FLINK-1_20"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this[0].application_configuration[0].flink_application_configuration[0].parallelism_configuration[0].parallelism == 1
    error_message = "parallelism must come from flink_parallelism"
  }
  assert {
    condition     = output.flink_runtime_properties["ecomm.rules"]["flood_window_seconds"] == tostring(var.manifest.rules.flood.parameters.flood_window_seconds.value) && output.flink_runtime_properties["ecomm.streams"]["anomalies_stream_name"] == "ecomm-test-anomalies"
    error_message = "every rule threshold and stream name must be a runtime property"
  }
  assert {
    condition = toset(keys(output.flink_runtime_properties["ecomm.rules"])) == toset(concat(
      flatten([for rule in values(var.manifest.rules) : keys(rule.parameters)]),
      [for name, setting in var.manifest.settings : name if contains(setting.used_by, "flink")],
    ))
    error_message = "every manifest parameter and Flink setting must reach the Flink application"
  }
  assert {
    condition     = aws_s3_object.flink_code[0].source_hash == filemd5("tests/fixtures/flink.zip")
    error_message = "the Flink code object must track the zip's hash"
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/lambda.zip") && aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "the Lambda must track the zip's hash and trace"
  }
  assert {
    condition = alltrue([
      for k in ["OFFENDERS_TABLE", "ALERTS_TOPIC_ARN", "ALERT_COOLDOWN_SECONDS", "OFFENDERS_TTL_DAYS", "POWERTOOLS_METRICS_NAMESPACE"] :
      contains(keys(aws_lambda_function.this.environment[0].variables), k)
    ])
    error_message = "the Lambda must receive its table, topic, cooldown, TTL and metric namespace"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["ALERT_COOLDOWN_SECONDS"] == "900"
    error_message = "the default cooldown must be 900 seconds"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.bisect_batch_on_function_error && aws_lambda_event_source_mapping.this.maximum_retry_attempts == 3 && aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds == 3600
    error_message = "the mapping must bisect on error and bound retries and record age"
  }
  assert {
    condition     = contains(aws_lambda_event_source_mapping.this.function_response_types, "ReportBatchItemFailures")
    error_message = "the mapping must honour partial batch failures"
  }
  assert {
    condition     = aws_dynamodb_table.this.ttl[0].attribute_name == "expires_at" && aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "the offenders table must expire items on expires_at and keep point-in-time recovery"
  }
  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "the offenders table must be encrypted with the platform key"
  }
  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == var.kms_key_arn && aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn
    error_message = "topic and DLQ must be encrypted with the platform key"
  }
  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "no e-mail subscription without alert_email"
  }
  assert {
    condition     = output.rules.watermark_seconds == var.manifest.settings.watermark_seconds.value && output.alert_cooldown_seconds == var.manifest.settings.alert_cooldown_seconds.value
    error_message = "the resolved rules must carry their defaults"
  }
}

run "flink_off_leaves_outputs_null" {
  command = plan

  variables {
    create_flink_application = false
    flink_zip_path           = null
  }

  assert {
    condition     = output.flink_application_name == null && output.flink_code_s3_key == null
    error_message = "outputs must be null, not fail, when the Flink application is off"
  }
  assert {
    condition     = length(aws_kinesisanalyticsv2_application.this) == 0 && length(aws_iam_role.flink) == 0
    error_message = "no Flink resources when create_flink_application is false"
  }
}

run "email_and_connector_and_overrides" {
  command = plan

  variables {
    alert_email                   = "oncall@example.com"
    flink_connector_jar           = "lib/flink-sql-connector-kinesis-5.0.0-1.20.jar"
    flink_parallelism             = 4
    lambda_parallelization_factor = 2
    rules = {
      flood_events_per_window = 30
    }
  }

  assert {
    condition = one([
      for g in aws_kinesisanalyticsv2_application.this[0].application_configuration[0].environment_properties[0].property_group :
      g.property_map if g.property_group_id == "kinesis.analytics.flink.run.options"
    ]) == tomap({ python = "main.py", jarfile = "lib/flink-sql-connector-kinesis-5.0.0-1.20.jar" })
    error_message = "Managed Flink must be told to run main.py with the connector jar"
  }
  assert {
    condition     = aws_sns_topic_subscription.email[0].endpoint == "oncall@example.com"
    error_message = "alert_email must be subscribed"
  }
  assert {
    condition     = output.rules.flood_events_per_window == 30 && output.rules.flood_window_seconds == var.manifest.rules.flood.parameters.flood_window_seconds.value
    error_message = "a partial rules object keeps the other defaults"
  }
  assert {
    condition     = output.flink_runtime_properties["ecomm.rules"]["flood_events_per_window"] == "30"
    error_message = "an overridden threshold must reach the Flink application"
  }
  assert {
    condition     = aws_kinesisanalyticsv2_application.this[0].application_configuration[0].flink_application_configuration[0].parallelism_configuration[0].parallelism == 4
    error_message = "flink_parallelism must set the parallelism"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.this.parallelization_factor == 2
    error_message = "lambda_parallelization_factor must reach the mapping"
  }
}

run "explicit_nulls_in_rules_take_the_defaults" {
  command = plan

  # The environments pass every rule field, null when unset.
  variables {
    rules = {
      flood_events_per_window = null
      watermark_seconds       = 8
    }
  }

  assert {
    condition     = output.rules.flood_events_per_window == var.manifest.rules.flood.parameters.flood_events_per_window.value && output.rules.watermark_seconds == 8
    error_message = "a null rule field must take the module default"
  }
}

run "permissions_and_reads_that_aws_honours" {
  command = plan

  # The rollback when an SNS send fails deletes the offender item it wrote.
  assert {
    condition     = contains(flatten([for st in data.aws_iam_policy_document.lambda.statement : st.actions if st.sid == "WriteOffenders"]), "dynamodb:DeleteItem")
    error_message = "the Lambda role must allow the DeleteItem of its rollback"
  }
  # No reserved concurrency by default: a new account's quota (10) cannot reserve any.
  assert {
    condition     = coalesce(aws_lambda_function.this.reserved_concurrent_executions, -1) == -1
    error_message = "reserved concurrency must be off by default"
  }
  assert {
    condition     = aws_lambda_function.this.runtime == "python3.13"
    error_message = "the runtime must be the Python of the Powertools layer"
  }
  # Flink reads through its own enhanced fan-out consumer, owned by Terraform.
  assert {
    condition     = aws_kinesis_stream_consumer.events[0].name == "ecomm-test-anomaly-rules" && aws_kinesis_stream_consumer.events[0].stream_arn == var.events_stream_arn
    error_message = "the Flink application must have its own consumer on the events stream"
  }
  assert {
    condition     = output.flink_runtime_properties["ecomm.streams"]["events_consumer_name"] == "ecomm-test-anomaly-rules"
    error_message = "the job must be told its consumer"
  }
  assert {
    condition = (
      toset(flatten([for st in data.aws_iam_policy_document.flink.statement : st.actions if st.sid == "ReadEventsThroughConsumer"])) == toset(["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"])
      && !contains(flatten([for st in data.aws_iam_policy_document.flink.statement : st.actions]), "kinesis:GetRecords")
    )
    error_message = "the Flink role reads through the consumer, never by polling the shards Firehose reads"
  }
}

run "blocks_allowlist_and_lookup" {
  command = plan

  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables["BLOCK_SECONDS"]) == { for name, rule in var.manifest.rules : name => rule.block.value }
    error_message = "the alerting Lambda must receive every rule's block duration from the manifest"
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables["BLOCK_SECONDS"])["traffic_spike"] == 0
    error_message = "the platform-wide rule must alert only"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["MITIGATION_TABLE"] == "ecomm-test-mitigation" && aws_dynamodb_table.mitigation.name == "ecomm-test-mitigation"
    error_message = "the alerting Lambda must be told the mitigation table"
  }
  assert {
    condition     = aws_dynamodb_table.mitigation.ttl[0].attribute_name == "expires_at" && aws_dynamodb_table.mitigation.point_in_time_recovery[0].enabled && aws_dynamodb_table.mitigation.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "the mitigation table must tidy up on expires_at, keep point-in-time recovery and use the platform key"
  }
  assert {
    condition     = toset(flatten([for st in data.aws_iam_policy_document.lambda.statement : st.actions if st.sid == "ReadAllowlistWriteBlocks"])) == toset(["dynamodb:GetItem", "dynamodb:UpdateItem"])
    error_message = "the alerting Lambda reads the allowlist and writes blocks, nothing more"
  }
  assert {
    condition     = aws_lambda_function.lookup.handler == "blocks.handler.lambda_handler" && aws_lambda_function.lookup.environment[0].variables["MITIGATION_TABLE"] == "ecomm-test-mitigation"
    error_message = "the lookup runs the blocks handler on the mitigation table"
  }
  assert {
    condition     = aws_lambda_function.lookup.source_code_hash == filebase64sha256("tests/fixtures/lambda.zip") && aws_lambda_function.lookup.tracing_config[0].mode == "Active"
    error_message = "the lookup ships the same zip and traces"
  }
  assert {
    condition     = aws_lambda_function_url.lookup.authorization_type == "AWS_IAM"
    error_message = "the lookup's URL must require SigV4 (IAM auth)"
  }
  assert {
    condition     = flatten([for st in data.aws_iam_policy_document.lookup.statement : st.actions if startswith(st.sid, "Read")]) == ["dynamodb:GetItem"]
    error_message = "the lookup's role may only read single items of the mitigation table"
  }
  assert {
    condition = flatten([
      for st in data.aws_iam_policy_document.storefront.statement : [for c in st.condition : c.values if c.variable == "lambda:FunctionUrlAuthType"]
    ]) == ["AWS_IAM"] && toset(flatten([for st in data.aws_iam_policy_document.storefront.statement : st.actions])) == toset(["lambda:InvokeFunctionUrl"])
    error_message = "the storefront policy may only invoke the lookup through its IAM-authenticated URL"
  }
  assert {
    condition     = aws_iam_policy.storefront.name == "ecomm-test-blocks-storefront" && aws_iam_policy.allowlist_admin.name == "ecomm-test-allowlist-admin"
    error_message = "the storefront and allowlist admin policies must be named from the prefix"
  }
  assert {
    condition     = output.block_seconds == { for name, rule in var.manifest.rules : name => rule.block.value }
    error_message = "the resolved block durations must be an output"
  }
}

run "block_seconds_overrides" {
  command = plan

  variables {
    block_seconds = {
      flood         = 60
      scraper       = null
      traffic_spike = 0
    }
  }

  assert {
    condition     = output.block_seconds.flood == 60 && output.block_seconds.scraper == var.manifest.rules.scraper.block.value
    error_message = "an override sets its rule's block; a null one keeps the manifest's"
  }
  assert {
    condition     = jsondecode(aws_lambda_function.this.environment[0].variables["BLOCK_SECONDS"]).flood == 60
    error_message = "an overridden block must reach the alerting Lambda"
  }
}

run "invalid_block_seconds_unknown_rule" {
  command = plan

  variables {
    block_seconds = { flooding = 60 }
  }

  expect_failures = [var.block_seconds]
}

run "invalid_block_seconds_out_of_bounds" {
  command = plan

  variables {
    block_seconds = { flood = 2592001 }
  }

  expect_failures = [var.block_seconds]
}

run "invalid_block_seconds_fractional" {
  command = plan

  variables {
    block_seconds = { flood = 1.5 }
  }

  expect_failures = [var.block_seconds]
}

run "invalid_lookup_memory_mb" {
  command = plan

  variables {
    lookup_memory_mb = 64
  }

  expect_failures = [var.lookup_memory_mb]
}

run "invalid_lookup_timeout_seconds" {
  command = plan

  variables {
    lookup_timeout_seconds = 31
  }

  expect_failures = [var.lookup_timeout_seconds]
}

run "invalid_lookup_reserved_concurrency" {
  command = plan

  variables {
    lookup_reserved_concurrency = 0
  }

  expect_failures = [var.lookup_reserved_concurrency]
}

run "no_consumer_without_the_application" {
  command = plan

  variables {
    create_flink_application = false
    flink_zip_path           = null
  }

  assert {
    condition     = length(aws_kinesis_stream_consumer.events) == 0 && output.events_consumer_arn == null && output.flink_role_arn == null
    error_message = "no consumer and no Flink role without the application"
  }
}

run "flink_on_without_zip_fails" {
  command = plan

  variables {
    flink_zip_path = null
  }

  expect_failures = [aws_s3_object.flink_code]
}

run "concurrency_below_shards_fails" {
  command = plan

  variables {
    anomalies_shard_count       = 4
    lambda_reserved_concurrency = 2
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

# One run per variable validation: each bad value must be refused at plan time.

run "invalid_name_prefix" {
  command = plan

  variables {
    name_prefix = "Ecomm_Test"
  }

  expect_failures = [var.name_prefix]
}

run "invalid_kms_key_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/ecomm"
  }

  expect_failures = [var.kms_key_arn]
}

run "invalid_artifacts_bucket_name" {
  command = plan

  variables {
    artifacts_bucket_name = "Not_A_Bucket"
  }

  expect_failures = [var.artifacts_bucket_name]
}

run "invalid_artifacts_bucket_arn" {
  command = plan

  variables {
    artifacts_bucket_arn = "ecomm-test-artifacts"
  }

  expect_failures = [var.artifacts_bucket_arn]
}

run "invalid_events_stream_arn" {
  command = plan

  variables {
    events_stream_arn = "ecomm-test-events"
  }

  expect_failures = [var.events_stream_arn]
}

run "invalid_events_stream_name" {
  command = plan

  variables {
    events_stream_name = "bad name"
  }

  expect_failures = [var.events_stream_name]
}

run "invalid_anomalies_shard_count" {
  command = plan

  variables {
    anomalies_shard_count = 0
  }

  expect_failures = [var.anomalies_shard_count]
}

run "invalid_anomalies_retention_hours" {
  command = plan

  variables {
    anomalies_retention_hours = 12
  }

  expect_failures = [var.anomalies_retention_hours]
}

run "invalid_lambda_zip_path" {
  command = plan

  variables {
    lambda_zip_path = "tests/fixtures/missing.zip"
  }

  expect_failures = [var.lambda_zip_path]
}

run "invalid_flink_zip_path" {
  command = plan

  variables {
    flink_zip_path = "tests/fixtures/missing.zip"
  }

  expect_failures = [var.flink_zip_path]
}

run "invalid_flink_connector_jar" {
  command = plan

  variables {
    flink_connector_jar = "/home/me/flink-sql-connector-kinesis.jar"
  }

  expect_failures = [var.flink_connector_jar]
}

run "invalid_flink_parallelism" {
  command = plan

  variables {
    flink_parallelism = 0
  }

  expect_failures = [var.flink_parallelism]
}

run "invalid_flink_log_level" {
  command = plan

  variables {
    flink_log_level = "TRACE"
  }

  expect_failures = [var.flink_log_level]
}

run "invalid_rules_count_threshold" {
  command = plan

  variables {
    rules = { flood_events_per_window = 1 }
  }

  expect_failures = [var.rules]
}

run "invalid_rules_window_length" {
  command = plan

  variables {
    rules = { flood_window_seconds = 0 }
  }

  expect_failures = [var.rules]
}

run "invalid_rules_spike_factor" {
  command = plan

  variables {
    rules = { traffic_spike_factor = 1 }
  }

  expect_failures = [var.rules]
}

run "invalid_rules_unknown_name" {
  command = plan

  variables {
    rules = { flood_events_per_minute = 30 }
  }

  expect_failures = [var.rules]
}

run "invalid_rules_fractional_count" {
  command = plan

  variables {
    rules = { cart_stuffer_adds = 2.5 }
  }

  expect_failures = [var.rules]
}

run "invalid_rules_watermark_and_idleness" {
  command = plan

  variables {
    rules = { watermark_seconds = -1 }
  }

  expect_failures = [var.rules]
}

run "invalid_alert_cooldown_seconds" {
  command = plan

  variables {
    alert_cooldown_seconds = -1
  }

  expect_failures = [var.alert_cooldown_seconds]
}

run "invalid_offenders_ttl_days" {
  command = plan

  variables {
    offenders_ttl_days = 0
  }

  expect_failures = [var.offenders_ttl_days]
}

run "invalid_alert_email" {
  command = plan

  variables {
    alert_email = "not-an-address"
  }

  expect_failures = [var.alert_email]
}

run "invalid_lambda_runtime" {
  command = plan

  variables {
    lambda_runtime = "python3.9"
  }

  expect_failures = [var.lambda_runtime]
}

run "invalid_lambda_memory_mb" {
  command = plan

  variables {
    lambda_memory_mb = 64
  }

  expect_failures = [var.lambda_memory_mb]
}

run "invalid_lambda_timeout_seconds" {
  command = plan

  variables {
    lambda_timeout_seconds = 901
  }

  expect_failures = [var.lambda_timeout_seconds]
}

run "invalid_lambda_reserved_concurrency" {
  command = plan

  variables {
    lambda_reserved_concurrency = 0
  }

  expect_failures = [var.lambda_reserved_concurrency]
}

run "invalid_lambda_batch_size" {
  command = plan

  variables {
    lambda_batch_size = 0
  }

  expect_failures = [var.lambda_batch_size]
}

run "invalid_lambda_maximum_batching_window_seconds" {
  command = plan

  variables {
    lambda_maximum_batching_window_seconds = 301
  }

  expect_failures = [var.lambda_maximum_batching_window_seconds]
}

run "invalid_lambda_maximum_retry_attempts" {
  command = plan

  variables {
    lambda_maximum_retry_attempts = -1
  }

  expect_failures = [var.lambda_maximum_retry_attempts]
}

run "invalid_lambda_maximum_record_age_seconds" {
  command = plan

  variables {
    lambda_maximum_record_age_seconds = -1
  }

  expect_failures = [var.lambda_maximum_record_age_seconds]
}

run "invalid_lambda_parallelization_factor" {
  command = plan

  variables {
    lambda_parallelization_factor = 11
  }

  expect_failures = [var.lambda_parallelization_factor]
}

run "invalid_lambda_starting_position" {
  command = plan

  variables {
    lambda_starting_position = "AT_TIMESTAMP"
  }

  expect_failures = [var.lambda_starting_position]
}

run "invalid_lambda_layers" {
  command = plan

  variables {
    lambda_layers = ["not-a-layer"]
  }

  expect_failures = [var.lambda_layers]
}

run "invalid_log_retention_days" {
  command = plan

  variables {
    log_retention_days = 2
  }

  expect_failures = [var.log_retention_days]
}

run "invalid_metric_namespace" {
  command = plan

  variables {
    metric_namespace = "AWS/Lambda"
  }

  expect_failures = [var.metric_namespace]
}

run "invalid_dlq_message_retention_seconds" {
  command = plan

  variables {
    dlq_message_retention_seconds = 30
  }

  expect_failures = [var.dlq_message_retention_seconds]
}

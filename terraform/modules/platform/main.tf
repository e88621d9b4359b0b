# The whole platform, wired once: every environment (local, dev, prod) calls this module with
# its own provider, backend and sizing, so a new setting is added here and nowhere else.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  # One namespace per environment: two environments in one account must not mix their
  # metrics (a dev heartbeat must never stand in for prod's).
  metric_namespace = var.name_prefix

  # The Powertools layer of the release the project pins and tests (lambdas/powertools_layer.json):
  # AWS publishes it per region under one account, so the ARN follows the stack's region.
  powertools = jsondecode(file("${path.module}/../../../lambdas/powertools_layer.json"))
  powertools_layer_arn = coalesce(
    var.powertools_layer_arn,
    join(":", [
      "arn", data.aws_partition.current.partition, "lambda", var.region,
      local.powertools.account_id, "layer",
      "AWSLambdaPowertoolsPythonV3-${replace(local.powertools.python_runtime, ".", "")}-${local.powertools.architecture}",
      tostring(local.powertools.layer_versions[local.powertools.pinned_release]),
    ]),
  )
}

module "lake" {
  source = "../lake"

  name_prefix                    = var.name_prefix
  force_destroy                  = var.force_destroy
  kms_deletion_window_in_days    = var.kms_deletion_window_in_days
  raw_expiration_days            = var.raw_expiration_days
  athena_results_expiration_days = 7
}

module "ingest" {
  source = "../ingest"

  name_prefix                = var.name_prefix
  kms_key_arn                = module.lake.kms_key_arn
  raw_bucket_arn             = module.lake.raw_bucket_arn
  stream_mode                = var.events_stream_mode
  shard_count                = var.events_shard_count
  retention_period_hours     = var.events_retention_hours
  buffering_size_mb          = var.firehose_buffering_size_mb
  buffering_interval_seconds = var.firehose_buffering_interval_seconds
  log_retention_days         = var.log_retention_days
}

module "catalog" {
  source = "../catalog"

  name_prefix            = var.name_prefix
  kms_key_arn            = module.lake.kms_key_arn
  raw_bucket_name        = module.lake.raw_bucket_name
  curated_bucket_name    = module.lake.curated_bucket_name
  quarantine_bucket_name = module.lake.quarantine_bucket_name
  artifacts_bucket_name  = module.lake.artifacts_bucket_name
  # The static part of the Firehose prefix, so the table and the delivery cannot disagree.
  raw_events_prefix  = split("ingest_date=", module.ingest.raw_prefix)[0]
  glue_script_path   = "${path.module}/../../../glue/curate_events.py"
  worker_type        = var.glue_worker_type
  number_of_workers  = var.glue_number_of_workers
  schedule           = var.glue_schedule
  metric_namespace   = local.metric_namespace
  log_retention_days = var.log_retention_days

  create_data_quality_ruleset = var.create_data_quality_ruleset
}

module "analytics" {
  source = "../analytics"

  name_prefix                    = var.name_prefix
  kms_key_arn                    = module.lake.kms_key_arn
  results_bucket_name            = module.lake.athena_results_bucket_name
  database_name                  = module.catalog.database_name
  sql_dir                        = "${path.module}/../../../sql/kpi"
  bytes_scanned_cutoff_per_query = var.athena_bytes_scanned_cutoff_per_query
  force_destroy                  = var.force_destroy
}

module "realtime" {
  source = "../realtime"

  name_prefix                            = var.name_prefix
  kms_key_arn                            = module.lake.kms_key_arn
  artifacts_bucket_name                  = module.lake.artifacts_bucket_name
  artifacts_bucket_arn                   = module.lake.artifacts_bucket_arn
  events_stream_arn                      = module.ingest.events_stream_arn
  events_stream_name                     = module.ingest.events_stream_name
  anomalies_shard_count                  = var.anomalies_shard_count
  lambda_zip_path                        = "${var.build_dir}/alerting-lambda.zip"
  flink_zip_path                         = var.create_flink_application ? "${var.build_dir}/flink-app.zip" : null
  flink_connector_jar                    = var.flink_connector_jar
  create_flink_application               = var.create_flink_application
  start_flink_application                = var.start_flink_application
  flink_parallelism                      = var.flink_parallelism
  rules                                  = var.rules
  alert_cooldown_seconds                 = var.alert_cooldown_seconds
  block_seconds                          = var.block_seconds
  offenders_ttl_days                     = var.offenders_ttl_days
  alert_email                            = var.alert_email
  lambda_batch_size                      = var.lambda_batch_size
  lambda_maximum_batching_window_seconds = var.lambda_maximum_batching_window_seconds
  lambda_maximum_retry_attempts          = var.lambda_maximum_retry_attempts
  lambda_maximum_record_age_seconds      = var.lambda_maximum_record_age_seconds
  lambda_parallelization_factor          = var.lambda_parallelization_factor
  lambda_layers                          = var.attach_powertools_layer ? [local.powertools_layer_arn] : []
  metric_namespace                       = local.metric_namespace
  log_retention_days                     = var.log_retention_days
  lambda_runtime                         = local.powertools.python_runtime
}

module "monitoring" {
  source = "../monitoring"

  name_prefix            = var.name_prefix
  alerts_topic_arn       = module.realtime.alerts_topic_arn
  kms_key_arn            = module.lake.kms_key_arn
  events_stream_name     = module.ingest.events_stream_name
  anomalies_stream_name  = module.realtime.anomalies_stream_name
  lambda_function_name   = module.realtime.lambda_function_name
  dlq_name               = module.realtime.dlq_name
  flink_application_name = module.realtime.flink_application_name
  firehose_name          = module.ingest.firehose_name
  glue_job_name          = module.catalog.glue_job_name
  curated_max_age_hours  = var.curated_max_age_hours
  curation_scheduled     = var.glue_schedule != null
  metric_namespace       = module.realtime.metric_namespace
}

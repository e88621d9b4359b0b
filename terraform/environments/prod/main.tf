module "platform" {
  source = "../../modules/platform"

  environment             = "prod"
  region                  = var.region
  name_prefix             = var.name_prefix
  build_dir               = var.build_dir
  flink_connector_jar     = var.flink_connector_jar
  alert_email             = var.alert_email
  powertools_layer_arn    = var.powertools_layer_arn
  force_destroy           = var.force_destroy
  start_flink_application = var.start_flink_application

  # On-demand ingestion, hourly curation, longer retention, more parallelism.
  events_stream_mode                    = "ON_DEMAND"
  events_retention_hours                = 168
  firehose_buffering_size_mb            = 128
  glue_worker_type                      = "G.2X"
  glue_number_of_workers                = 10
  glue_schedule                         = "cron(15 * * * ? *)"
  athena_bytes_scanned_cutoff_per_query = 107374182400
  anomalies_shard_count                 = 2
  flink_parallelism                     = 2
  lambda_parallelization_factor         = 2
  raw_expiration_days                   = 400
  curated_max_age_hours                 = 2
  offenders_ttl_days                    = 90
}


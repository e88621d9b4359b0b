module "platform" {
  source = "../../modules/platform"

  environment         = "local"
  region              = var.region
  name_prefix         = var.name_prefix
  build_dir           = var.build_dir
  flink_connector_jar = var.flink_connector_jar

  # Disposable: buckets and keys go with `ecomm local down`.
  force_destroy               = true
  kms_deletion_window_in_days = 7
  # The emulator stores the Flink application but cannot run it (the local detector plays it).
  start_flink_application = false
  # The emulator holds no AWS layer; the local runner runs the handler with the pinned Powertools.
  attach_powertools_layer = false

  # Small buffers and budgets, so a laptop sees results within a minute.
  raw_expiration_days                   = null
  firehose_buffering_size_mb            = 1
  firehose_buffering_interval_seconds   = 60
  athena_bytes_scanned_cutoff_per_query = 10485760
  offenders_ttl_days                    = 7
  curated_max_age_hours                 = 24
}

# The modules were called from here before the platform module gathered them: a local stack
# applied before then plans without replacing anything. (dev and prod were never applied before.)
moved {
  from = module.lake
  to   = module.platform.module.lake
}

moved {
  from = module.ingest
  to   = module.platform.module.ingest
}

moved {
  from = module.catalog
  to   = module.platform.module.catalog
}

moved {
  from = module.analytics
  to   = module.platform.module.analytics
}

moved {
  from = module.realtime
  to   = module.platform.module.realtime
}

moved {
  from = module.monitoring
  to   = module.platform.module.monitoring
}

module "platform" {
  source = "../../modules/platform"

  environment              = "dev"
  region                   = var.region
  name_prefix              = var.name_prefix
  build_dir                = var.build_dir
  flink_connector_jar      = var.flink_connector_jar
  alert_email              = var.alert_email
  lambda_layers            = var.lambda_layers
  enable_quicksight        = var.enable_quicksight
  quicksight_principal_arn = var.quicksight_principal_arn

  # The smallest paid footprint is the platform module's defaults: one provisioned shard, a
  # two-worker Glue job run on demand (`ecomm etl run`), one Flink KPU.
}


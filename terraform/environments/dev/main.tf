module "platform" {
  source = "../../modules/platform"

  environment             = "dev"
  region                  = var.region
  name_prefix             = var.name_prefix
  build_dir               = var.build_dir
  flink_connector_jar     = var.flink_connector_jar
  alert_email             = var.alert_email
  powertools_layer_arn    = var.powertools_layer_arn
  force_destroy           = var.force_destroy
  start_flink_application = var.start_flink_application

  # The smallest paid footprint is the platform module's defaults: one provisioned shard, a
  # two-worker Glue job run on demand (`ecomm etl run`), one Flink KPU.
}


locals {
  # One named query per KPI file; the file name (without .sql) is the query's name, the same
  # name `ecomm kpi <name>` takes locally.
  kpi_files = { for f in fileset(var.sql_dir, "*.sql") : trimsuffix(f, ".sql") => "${var.sql_dir}/${f}" }
}

resource "aws_athena_workgroup" "this" {
  name          = "${var.name_prefix}-analytics"
  description   = "KPI queries over the ecomm lake: enforced settings, KMS-encrypted results, scan cut-off."
  state         = "ENABLED"
  force_destroy = var.force_destroy

  configuration {
    # Clients cannot override the result location, the encryption or the cut-off.
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = var.engine_version
    }

    result_configuration {
      output_location = "s3://${var.results_bucket_name}/results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags = var.tags
}

resource "aws_athena_named_query" "this" {
  for_each = local.kpi_files

  name        = each.key
  description = "KPI ${each.key} (sql/kpi/${each.key}.sql)"
  workgroup   = aws_athena_workgroup.this.id
  database    = var.database_name
  query       = file(each.value)
}

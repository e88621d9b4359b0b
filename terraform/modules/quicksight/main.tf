# QuickSight over Athena: the same workgroup, database and tables as `ecomm kpi`, so the
# dashboards and the CLI cannot disagree. Direct query: no SPICE capacity to buy or refresh.

data "aws_caller_identity" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  datasets   = var.enabled ? var.datasets : {}

  data_source_actions = [
    "quicksight:DeleteDataSource",
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:UpdateDataSourcePermissions",
  ]
  data_set_actions = [
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:DeleteDataSet",
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:PassDataSet",
    "quicksight:UpdateDataSet",
    "quicksight:UpdateDataSetPermissions",
  ]
}

resource "aws_quicksight_data_source" "this" {
  count = var.enabled ? 1 : 0

  aws_account_id = local.account_id
  data_source_id = "${var.name_prefix}-athena"
  name           = "${var.name_prefix} Athena"
  type           = "ATHENA"

  parameters {
    athena {
      work_group = var.athena_workgroup
    }
  }

  ssl_properties {
    disable_ssl = false
  }

  dynamic "permission" {
    for_each = var.principal_arn == null ? [] : [var.principal_arn]
    content {
      principal = permission.value
      actions   = local.data_source_actions
    }
  }

  tags = var.tags
}

resource "aws_quicksight_data_set" "this" {
  for_each = local.datasets

  aws_account_id = local.account_id
  data_set_id    = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  name           = "${var.name_prefix} ${replace(each.key, "_", " ")}"
  import_mode    = "DIRECT_QUERY"

  physical_table_map {
    physical_table_map_id = each.key

    dynamic "relational_table" {
      for_each = each.value.table == null ? [] : [each.value.table]
      content {
        data_source_arn = aws_quicksight_data_source.this[0].arn
        catalog         = "AwsDataCatalog"
        schema          = var.glue_database
        name            = relational_table.value
        dynamic "input_columns" {
          for_each = each.value.columns
          content {
            name = input_columns.value.name
            type = input_columns.value.type
          }
        }
      }
    }

    dynamic "custom_sql" {
      for_each = each.value.sql == null ? [] : [each.value.sql]
      content {
        data_source_arn = aws_quicksight_data_source.this[0].arn
        name            = each.key
        sql_query       = custom_sql.value
        dynamic "columns" {
          for_each = each.value.columns
          content {
            name = columns.value.name
            type = columns.value.type
          }
        }
      }
    }
  }

  dynamic "permissions" {
    for_each = var.principal_arn == null ? [] : [var.principal_arn]
    content {
      principal = permissions.value
      actions   = local.data_set_actions
    }
  }

  tags = var.tags
}

# Plan-mode tests of the quicksight module against a mocked provider.

mock_provider "aws" {
  source = "../../mocks/aws"
}

variables {
  name_prefix      = "ecomm-test"
  athena_workgroup = "ecomm-test"
  glue_database    = "ecomm_test"
}

run "off_by_default" {
  command = plan

  assert {
    condition     = length(aws_quicksight_data_source.this) == 0 && length(aws_quicksight_data_set.this) == 0
    error_message = "nothing is created unless enabled"
  }
  assert {
    condition     = output.data_source_arn == null && length(output.data_set_arns) == 0
    error_message = "outputs must be null/empty, not fail, when disabled"
  }
}

run "enabled_creates_athena_source_and_data_sets" {
  command = plan

  variables {
    enabled       = true
    principal_arn = "arn:aws:quicksight:eu-west-1:123456789012:group/default/analysts"
  }

  assert {
    condition     = aws_quicksight_data_source.this[0].type == "ATHENA" && aws_quicksight_data_source.this[0].parameters[0].athena[0].work_group == "ecomm-test"
    error_message = "the data source must query through the Athena workgroup"
  }
  assert {
    condition     = toset(keys(aws_quicksight_data_set.this)) == toset(["events", "daily_kpis"])
    error_message = "the curated events and the daily KPIs must be data sets"
  }
  assert {
    condition     = one([for t in aws_quicksight_data_set.this["events"].physical_table_map : t.relational_table[0].schema]) == "ecomm_test"
    error_message = "the events data set must read the Glue database"
  }
  assert {
    condition     = strcontains(one([for t in aws_quicksight_data_set.this["daily_kpis"].physical_table_map : t.custom_sql[0].sql_query]), "GROUP BY event_date")
    error_message = "the KPI data set must be the daily KPI query"
  }
  assert {
    condition     = aws_quicksight_data_set.this["events"].import_mode == "DIRECT_QUERY"
    error_message = "data sets query Athena directly (no SPICE)"
  }
  assert {
    condition     = length(aws_quicksight_data_source.this[0].permission) == 1
    error_message = "the principal must be granted the data source"
  }
}

run "enabled_without_principal_grants_nobody" {
  command = plan

  variables {
    enabled = true
  }

  assert {
    condition     = length(aws_quicksight_data_source.this[0].permission) == 0
    error_message = "no permission block without principal_arn"
  }
}

# One run per variable validation.

run "invalid_name_prefix" {
  command = plan

  variables {
    name_prefix = "Ecomm_Test"
  }

  expect_failures = [var.name_prefix]
}

run "invalid_athena_workgroup" {
  command = plan

  variables {
    athena_workgroup = "bad workgroup"
  }

  expect_failures = [var.athena_workgroup]
}

run "invalid_glue_database" {
  command = plan

  variables {
    glue_database = "Bad-Database"
  }

  expect_failures = [var.glue_database]
}

run "invalid_principal_arn" {
  command = plan

  variables {
    principal_arn = "arn:aws:iam::123456789012:user/alice"
  }

  expect_failures = [var.principal_arn]
}

run "invalid_datasets_source" {
  command = plan

  variables {
    datasets = { both = { table = "events", sql = "SELECT 1", columns = [{ name = "a", type = "STRING" }] } }
  }

  expect_failures = [var.datasets]
}

run "invalid_datasets_columns" {
  command = plan

  variables {
    datasets = { events = { table = "events", columns = [{ name = "a", type = "TEXT" }] } }
  }

  expect_failures = [var.datasets]
}

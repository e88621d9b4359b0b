mock_provider "aws" {
  override_during = plan
  source          = "../../mocks/aws"
}

variables {
  name_prefix         = "ecomm-test"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  results_bucket_name = "ecomm-test-athena-results-123456789012"
  database_name       = "ecomm_test"
  sql_dir             = "tests/fixtures/sql"
}

run "enforced_encrypted_workgroup_with_one_query_per_file" {
  command = plan

  assert {
    condition     = aws_athena_workgroup.this.configuration[0].enforce_workgroup_configuration
    error_message = "The workgroup configuration must be enforced."
  }

  assert {
    condition     = aws_athena_workgroup.this.configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS" && aws_athena_workgroup.this.configuration[0].result_configuration[0].encryption_configuration[0].kms_key_arn == var.kms_key_arn
    error_message = "Results must be SSE-KMS encrypted with the lake key."
  }

  assert {
    condition     = aws_athena_workgroup.this.configuration[0].result_configuration[0].output_location == "s3://ecomm-test-athena-results-123456789012/results/"
    error_message = "Results must land in the athena-results bucket."
  }

  assert {
    condition     = aws_athena_workgroup.this.configuration[0].bytes_scanned_cutoff_per_query == 10737418240
    error_message = "The default scan cut-off is 10 GiB."
  }

  assert {
    condition     = toset(keys(aws_athena_named_query.this)) == toset(["conversion", "daily_visitors"])
    error_message = "One named query per .sql file, named after the file; other files are ignored."
  }

  assert {
    condition     = aws_athena_named_query.this["conversion"].query == file("tests/fixtures/sql/conversion.sql") && aws_athena_named_query.this["conversion"].database == "ecomm_test"
    error_message = "A named query must carry its file's SQL and the database."
  }
}

run "empty_sql_dir_plans_no_query" {
  command = plan

  variables {
    sql_dir = "tests/fixtures/empty"
  }

  assert {
    condition     = length(aws_athena_named_query.this) == 0 && output.named_query_ids == {}
    error_message = "An empty folder must plan a workgroup and no named query."
  }
}

run "missing_sql_dir_plans_no_query" {
  command = plan

  variables {
    sql_dir = "tests/fixtures/does-not-exist"
  }

  assert {
    condition     = length(aws_athena_named_query.this) == 0
    error_message = "A missing folder must plan no named query."
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "ecomm test"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_non_kms_arn" {
  command = plan
  variables {
    kms_key_arn = "11111111-2222-3333-4444-555555555555"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_results_bucket" {
  command = plan
  variables {
    results_bucket_name = "s3://results/"
  }
  expect_failures = [var.results_bucket_name]
}

run "rejects_bad_database_name" {
  command = plan
  variables {
    database_name = "ecomm-test"
  }
  expect_failures = [var.database_name]
}

run "rejects_tiny_scan_cutoff" {
  command = plan
  variables {
    bytes_scanned_cutoff_per_query = 1024
  }
  expect_failures = [var.bytes_scanned_cutoff_per_query]
}

run "rejects_engine_version_2" {
  command = plan
  variables {
    engine_version = "Athena engine version 2"
  }
  expect_failures = [var.engine_version]
}

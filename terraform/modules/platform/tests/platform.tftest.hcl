# Plan-mode tests of the whole platform against a mocked provider (offline, no credentials):
# the wiring of the seven modules, and what each environment changes.

mock_provider "aws" {
  override_during = plan
  source          = "../../mocks/aws"
}

variables {
  region    = "eu-west-1"
  build_dir = "tests/fixtures"
}

run "dev_is_the_default_sizing" {
  command = plan

  variables {
    environment = "dev"
    name_prefix = "ecomm-dev"
  }

  assert {
    condition     = output.environment == "dev" && output.events_stream_name == "ecomm-dev-events"
    error_message = "the platform must name its resources after the environment prefix"
  }
  assert {
    condition     = output.anomalies_stream_name == "ecomm-dev-anomalies" && output.glue_job_name == "ecomm-dev-curate-events"
    error_message = "every module must take the environment's prefix"
  }
  assert {
    condition     = output.offenders_ttl_days == 30 && output.event_source_mapping.parallelization_factor == 1
    error_message = "dev must take the platform defaults"
  }
  assert {
    condition     = output.flink_application_name == "ecomm-dev-anomaly-rules"
    error_message = "the Flink application is created on AWS"
  }
}

run "prod_sizing_reaches_the_modules" {
  command = plan

  variables {
    environment                   = "prod"
    name_prefix                   = "ecomm-prod"
    events_stream_mode            = "ON_DEMAND"
    offenders_ttl_days            = 90
    lambda_parallelization_factor = 2
    rules                         = { flood_events_per_window = 30 }
  }

  assert {
    condition     = output.offenders_ttl_days == 90 && output.event_source_mapping.parallelization_factor == 2
    error_message = "the environment's sizing must reach the realtime module"
  }
  assert {
    condition     = output.rule_thresholds.flood_events_per_window == 30
    error_message = "rule thresholds must reach the realtime module"
  }
}

run "local_without_a_flink_application" {
  command = plan

  variables {
    environment              = "local"
    region                   = "us-east-1"
    name_prefix              = "ecomm-local"
    force_destroy            = true
    start_flink_application  = false
    create_flink_application = false
  }

  assert {
    condition     = output.environment == "local" && output.region == "us-east-1"
    error_message = "outputs must describe the local stack"
  }
  assert {
    condition     = output.flink_application_name == null
    error_message = "no Flink application when create_flink_application is false"
  }
}

run "an_unknown_environment_is_refused" {
  command = plan

  variables {
    environment = "staging"
    name_prefix = "ecomm-staging"
  }

  expect_failures = [var.environment]
}

# Plan-mode tests of the whole platform against a mocked provider (offline, no credentials):
# the wiring of the seven modules, and what each environment changes.

mock_provider "aws" {
  override_during = plan

  mock_resource "aws_athena_workgroup" {
    defaults = {
      arn = "arn:aws:athena:eu-west-1:123456789012:workgroup/ecomm-test-analytics"
    }
  }
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
      arn        = "arn:aws:iam::123456789012:user/test"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/ecomm-test-glue-curate-events"
    }
  }
  mock_resource "aws_glue_catalog_database" {
    defaults = {
      arn = "arn:aws:glue:eu-west-1:123456789012:database/ecomm_test"
    }
  }
  mock_resource "aws_glue_catalog_table" {
    defaults = {
      arn = "arn:aws:glue:eu-west-1:123456789012:table/ecomm_test/events"
    }
  }
  mock_resource "aws_glue_job" {
    defaults = {
      arn = "arn:aws:glue:eu-west-1:123456789012:job/ecomm-test-curate-events"
    }
  }
  mock_resource "aws_glue_trigger" {
    defaults = {
      arn = "arn:aws:glue:eu-west-1:123456789012:trigger/ecomm-test-curate-events-schedule"
    }
  }
  mock_resource "aws_glue_data_quality_ruleset" {
    defaults = {
      arn = "arn:aws:glue:eu-west-1:123456789012:dataQualityRuleset/ecomm-test-events-contract"
    }
  }
  mock_resource "aws_kinesis_stream" {
    defaults = {
      arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/ecomm-test-events"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/kinesisfirehose/ecomm-test-events-to-raw"
    }
  }
  mock_resource "aws_kinesis_firehose_delivery_stream" {
    defaults = {
      arn = "arn:aws:firehose:eu-west-1:123456789012:deliverystream/ecomm-test-events-to-raw"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::ecomm-test-bucket"
    }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:test"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:eu-west-1:123456789012:rule/test"
    }
  }
  mock_resource "aws_quicksight_data_source" {
    defaults = {
      arn = "arn:aws:quicksight:eu-west-1:123456789012:datasource/ecomm-test-athena"
    }
  }
  mock_resource "aws_quicksight_data_set" {
    defaults = {
      arn = "arn:aws:quicksight:eu-west-1:123456789012:dataset/ecomm-test"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:eu-west-1:123456789012:function:test-alerting"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:test-alerting-dlq"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/test-alerting-dlq"
    }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/test-offenders"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:test-alerts"
    }
  }
  mock_resource "aws_cloudwatch_log_stream" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/test:log-stream:application"
    }
  }
  mock_resource "aws_kinesisanalyticsv2_application" {
    defaults = {
      arn = "arn:aws:kinesisanalytics:eu-west-1:123456789012:application/test-anomaly-rules"
    }
  }
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

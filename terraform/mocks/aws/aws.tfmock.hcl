# Mock values of the AWS provider for the modules' plan-mode tests (terraform test): ARNs and
# names in the shape the modules and their validations expect. Loaded with
# `mock_provider "aws" { source = "../../mocks/aws" }`.

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
mock_resource "aws_kinesis_stream_consumer" {
  defaults = {
    arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/ecomm-test-events/consumer/ecomm-test-anomaly-rules:1700000000"
  }
}
mock_resource "aws_iam_policy" {
  defaults = {
    arn = "arn:aws:iam::123456789012:policy/ecomm-test-operator"
  }
}

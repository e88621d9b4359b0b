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
    block_seconds                 = { flood = 600 }
  }

  assert {
    condition     = output.offenders_ttl_days == 90 && output.event_source_mapping.parallelization_factor == 2
    error_message = "the environment's sizing must reach the realtime module"
  }
  assert {
    condition     = output.rule_thresholds.flood_events_per_window == 30
    error_message = "rule thresholds must reach the realtime module"
  }
  assert {
    condition     = output.block_seconds.flood == 600 && output.block_seconds.traffic_spike == 0
    error_message = "block durations must reach the realtime module"
  }
  assert {
    condition     = contains(keys(output.iam_role_arns), "blocks") && output.mitigation_table == "ecomm-prod-mitigation"
    error_message = "the lookup's role joins the permission check, its table an output"
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

run "the_lambda_runs_on_the_pinned_powertools_layer_of_its_region" {
  command = plan

  variables {
    environment = "dev"
    name_prefix = "ecomm-dev"
    region      = "ap-southeast-2"
  }

  assert {
    condition = length(output.alerting_lambda_runtime.layers) == 1 && output.alerting_lambda_runtime.layers[0] == (
      "arn:aws:lambda:ap-southeast-2:017000801446:layer:AWSLambdaPowertoolsPythonV3-${replace(jsondecode(file("../../../lambdas/powertools_layer.json")).python_runtime, ".", "")}-x86_64:${jsondecode(file("../../../lambdas/powertools_layer.json")).layer_versions[jsondecode(file("../../../lambdas/powertools_layer.json")).pinned_release]}"
    )
    error_message = "the layer ARN must follow the region and the pinned release's layer version"
  }
  assert {
    condition     = output.alerting_lambda_runtime.runtime == jsondecode(file("../../../lambdas/powertools_layer.json")).python_runtime
    error_message = "the runtime must be the layer's Python"
  }
  assert {
    condition     = output.metric_namespace == "ecomm-dev"
    error_message = "each environment has its own metric namespace"
  }
}

run "a_layer_of_ones_own_replaces_aws_s" {
  command = plan

  variables {
    environment          = "dev"
    name_prefix          = "ecomm-dev"
    powertools_layer_arn = "arn:aws-cn:lambda:cn-north-1:498634801083:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:27"
  }

  assert {
    condition     = length(output.alerting_lambda_runtime.layers) == 1 && output.alerting_lambda_runtime.layers[0] == var.powertools_layer_arn
    error_message = "powertools_layer_arn must replace AWS's public layer"
  }
}

run "the_operator_policy_covers_the_data_commands_only" {
  command = plan

  variables {
    environment = "prod"
    name_prefix = "ecomm-prod"
  }

  assert {
    condition = alltrue([
      for st in data.aws_iam_policy_document.operator.statement :
      alltrue([for a in st.actions : !endswith(a, "*") && !startswith(a, "iam:")])
    ])
    error_message = "the operator policy names every action and grants no IAM"
  }
  assert {
    condition     = aws_iam_policy.operator.name == "ecomm-prod-operator"
    error_message = "the operator policy is a managed policy of the environment"
  }
}

run "no_layer_where_none_is_attached" {
  command = plan

  variables {
    environment             = "local"
    name_prefix             = "ecomm-local"
    attach_powertools_layer = false
  }

  assert {
    condition     = length(output.alerting_lambda_runtime.layers) == 0
    error_message = "the local stack attaches no layer (the emulator holds none)"
  }
}

run "a_layer_arn_that_is_not_one_is_refused" {
  command = plan

  variables {
    environment          = "dev"
    name_prefix          = "ecomm-dev"
    powertools_layer_arn = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64"
  }

  expect_failures = [var.powertools_layer_arn]
}

run "an_unknown_environment_is_refused" {
  command = plan

  variables {
    environment = "staging"
    name_prefix = "ecomm-staging"
  }

  expect_failures = [var.environment]
}

# Development: the smallest paid footprint; the Glue job runs on demand (`ecomm etl run`).
region                              = "eu-west-1"
name_prefix                         = "ecomm-dev"
events_stream_mode                  = "PROVISIONED"
events_shard_count                  = 1
firehose_buffering_size_mb          = 64
firehose_buffering_interval_seconds = 300
glue_worker_type                    = "G.1X"
glue_number_of_workers              = 2
glue_schedule                       = null
create_flink_application            = true
flink_parallelism                   = 1
alert_email                         = null
raw_expiration_days                 = 90
curated_max_age_hours               = 26
enable_quicksight                   = false
# Powertools for AWS Lambda (Python) v3, published by AWS per region; pick the current version for
# your region from the Powertools documentation ("Lambda Layer") and keep the runtime in step.
lambda_layers = ["arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:18"]

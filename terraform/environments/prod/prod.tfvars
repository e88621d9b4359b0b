# Production: on-demand ingestion, hourly curation, longer retention, more parallelism.
region                                = "eu-west-1"
name_prefix                           = "ecomm-prod"
events_stream_mode                    = "ON_DEMAND"
events_retention_hours                = 168
firehose_buffering_size_mb            = 128
firehose_buffering_interval_seconds   = 300
glue_worker_type                      = "G.2X"
glue_number_of_workers                = 10
glue_schedule                         = "cron(15 * * * ? *)"
athena_bytes_scanned_cutoff_per_query = 107374182400
anomalies_shard_count                 = 2
create_flink_application              = true
flink_parallelism                     = 2
lambda_parallelization_factor         = 2
alert_email                           = null
raw_expiration_days                   = 400
curated_max_age_hours                 = 2
offenders_ttl_days                    = 90
enable_quicksight                     = false
# Powertools for AWS Lambda (Python) v3, published by AWS per region; pick the current version for
# your region from the Powertools documentation ("Lambda Layer") and keep the runtime in step.
lambda_layers = ["arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:18"]

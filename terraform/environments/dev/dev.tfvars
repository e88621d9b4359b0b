# Development: what is set per deployment (the sizing is in main.tf).
region            = "eu-west-1"
alert_email       = null
enable_quicksight = false
# Powertools for AWS Lambda (Python) v3, published by AWS per region; pick the current version for
# your region from the Powertools documentation ("Lambda Layer") and keep the runtime in step.
lambda_layers = ["arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:18"]

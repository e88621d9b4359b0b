# Development: what is set per deployment (the sizing is in main.tf).
region      = "eu-west-1"
alert_email = null
# The alerting Lambda runs on AWS's Powertools layer of the release the project pins
# (lambdas/powertools_layer.json), in this region. Set an ARN only for a private copy, or where AWS
# publishes under other accounts (China, GovCloud).
powertools_layer_arn = null

"""The alerting Lambda: anomalies from the Flink rules become offender items and SNS alerts.

`handler` is the thin Lambda entry point, `offenders` the pure logic, `store` and `notify` the
AWS I/O (DynamoDB and SNS). The zip holds the `lambdas/` tree, so the handler is
`alerting.handler.lambda_handler`.
"""

"""The storefront's block lookup: `GET /blocks/{user_id}` behind a Lambda function URL (IAM auth).

`handler` is the entry point (`blocks.handler.lambda_handler`, in the same zip as the alerting
Lambda); it reads the mitigation table through `alerting.store.MitigationStore`.
"""

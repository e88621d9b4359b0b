"""SNS I/O of the alerting Lambda: one message per offender per cooldown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .offenders import Anomaly, alert_message


class AlertPublisher:
    """Publishes alerts to the alerts topic through an SNS client (any endpoint)."""

    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic = topic_arn

    def publish(self, anomaly: Anomaly, detected_at: datetime) -> str:
        """Send one alert; returns the SNS message id."""
        subject, body = alert_message(anomaly, detected_at)
        answer = self._sns.publish(
            TopicArn=self._topic,
            Subject=subject,
            Message=body,
            # Subscribers (e-mail filters, SQS consumers) can filter on the rule.
            MessageAttributes={"rule": {"DataType": "String", "StringValue": anomaly.rule}},
        )
        return str(answer["MessageId"])

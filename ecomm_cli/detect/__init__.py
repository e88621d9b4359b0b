"""The local detector: the real-time rules of `sql/realtime/` in pure Python, on event time."""

from ecomm_cli.detect.engine import Alert, Detector, Event, LateEvents, event_from_contract
from ecomm_cli.detect.rules import RULES, Thresholds

__all__ = [
    "RULES",
    "Alert",
    "Detector",
    "Event",
    "LateEvents",
    "Thresholds",
    "event_from_contract",
]

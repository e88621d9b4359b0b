"""The local runners take their settings from Terraform's outputs and the Lambda's config."""

from __future__ import annotations

import os

import pytest

from ecomm_cli.aws_clients import COMPONENT_KEYS
from ecomm_cli.detect import Alert, Thresholds
from ecomm_cli.detect.rules import SUSTAINED_RULES
from ecomm_cli.realtime import lambda_runner
from ecomm_cli.realtime.detector_runner import (
    DetectorRunnerError,
    DetectorTarget,
    longest_window_ms,
    partition_key,
    thresholds_from_outputs,
)

pytestmark = pytest.mark.unit


def test_thresholds_come_from_the_stack_output() -> None:
    # As `terraform output -json` gives them: numbers, sometimes as floats.
    thresholds, idle = thresholds_from_outputs(
        {
            "flood_events_per_window": 25.0,
            "traffic_spike_factor": 4.5,
            "idle_timeout_seconds": 12,
            "watermark_seconds": 0,
            "cart_stuffer_adds": None,
        }
    )
    assert thresholds.flood_events_per_window == 25
    assert thresholds.traffic_spike_factor == 4.5
    assert thresholds.watermark_seconds == 0
    assert thresholds.cart_stuffer_adds == Thresholds().cart_stuffer_adds
    assert idle == 12.0


def test_an_unknown_threshold_is_an_error_not_a_silent_default() -> None:
    with pytest.raises(DetectorRunnerError, match="flood_events_per_10s"):
        thresholds_from_outputs({"flood_events_per_10s": 20})


def test_a_bad_threshold_value_is_an_error() -> None:
    with pytest.raises(DetectorRunnerError, match="flood_events_per_window"):
        thresholds_from_outputs({"flood_events_per_window": 0})


def test_target_needs_the_stack_outputs() -> None:
    with pytest.raises(DetectorRunnerError, match="rule_thresholds"):
        DetectorTarget.from_outputs({"events_stream_name": "e", "anomalies_stream_name": "a"})
    target = DetectorTarget.from_outputs(
        {"events_stream_name": "e", "anomalies_stream_name": "a", "rule_thresholds": {}}
    )
    assert (target.events_stream, target.anomalies_stream) == ("e", "a")
    assert target.thresholds == Thresholds()


def test_partition_key_and_longest_window() -> None:
    user_alert = Alert("flood", 42, 0, 10_000, 30, ())
    platform_alert = Alert("traffic_spike", None, 0, 10_000, 500, ())
    assert partition_key(user_alert) == "42"
    assert partition_key(platform_alert) == "traffic_spike"
    # The sustained rules' hour is the longest by default; shortened, the longest one wins.
    assert longest_window_ms(Thresholds()) == 3_600_000
    ten_minutes = {f"{rule}_window_seconds": 600 for rule in SUSTAINED_RULES}
    ten_minutes["sustained_scraper_window_seconds"] = 1200
    assert longest_window_ms(Thresholds(**ten_minutes)) == 1_200_000


def test_the_handler_is_loaded_by_its_handler_string() -> None:
    handler = lambda_runner.load_handler("alerting.handler.lambda_handler")
    from alerting.handler import lambda_handler

    assert handler is lambda_handler


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("lambda_handler", "not module.function"),
        ("alerting.nowhere.lambda_handler", "cannot import"),
        ("alerting.handler.nothing", "no function"),
    ],
)
def test_a_wrong_handler_string_is_a_clear_error(handler: str, message: str) -> None:
    with pytest.raises(lambda_runner.LambdaRunnerError, match=message):
        lambda_runner.load_handler(handler)


def test_the_function_environment_is_restored_after_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "from-the-shell")
    monkeypatch.delenv("OFFENDERS_TABLE", raising=False)
    with lambda_runner.function_environment(
        {"OFFENDERS_TABLE": "t"}, "http://127.0.0.1:1", "eu-west-1"
    ):
        assert os.environ["OFFENDERS_TABLE"] == "t"
        assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
        # The handler signs as the Lambda component (the emulator attributes its calls).
        assert os.environ["AWS_ACCESS_KEY_ID"] == COMPONENT_KEYS["lambda"]
        assert "AWS_SESSION_TOKEN" not in os.environ
    assert "OFFENDERS_TABLE" not in os.environ and "AWS_ENDPOINT_URL" not in os.environ
    assert os.environ["AWS_SESSION_TOKEN"] == "from-the-shell"


def test_stream_name_of_an_arn() -> None:
    arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/ecomm-local-anomalies"
    assert lambda_runner.stream_name_of(arn) == "ecomm-local-anomalies"

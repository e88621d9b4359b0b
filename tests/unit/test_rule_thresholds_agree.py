"""The local detector and the Flink application on AWS use the same thresholds by default."""

from __future__ import annotations

import re

import pytest

from ecomm_cli.detect.rules import Thresholds
from ecomm_cli.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit
# Settings of the Flink source only (no counterpart in an offline file run).
FLINK_ONLY = {"idle_timeout_seconds"}


def terraform_rule_defaults() -> dict[str, float]:
    text = (PROJECT_ROOT / "terraform/modules/realtime/variables.tf").read_text()
    block = text.split('variable "rules"', 1)[1].split("})", 1)[0]
    pairs = re.findall(r"(\w+)\s*=\s*optional\(number,\s*([\d.]+)\)", block)
    return {name: float(value) for name, value in pairs}


def test_detector_defaults_equal_the_realtime_module_defaults() -> None:
    terraform = terraform_rule_defaults()
    detector = {name: float(getattr(Thresholds(), name)) for name in Thresholds.names()}
    assert set(terraform) - FLINK_ONLY == set(detector)
    assert {k: v for k, v in terraform.items() if k not in FLINK_ONLY} == detector

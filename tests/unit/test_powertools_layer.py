"""The alerting Lambda runs on AWS's Powertools layer of the release the project pins and
tests: the pin in pyproject.toml, the installed package and lambdas/powertools_layer.json agree."""

from __future__ import annotations

import json
import re
from importlib.metadata import version

import pytest

from ecomm_cli.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit
TABLE = json.loads((PROJECT_ROOT / "lambdas" / "powertools_layer.json").read_text())


def pinned_release() -> str:
    text = (PROJECT_ROOT / "pyproject.toml").read_text()
    found = re.search(r'"aws-lambda-powertools==([0-9.]+)"', text)
    assert found, "pyproject.toml must pin aws-lambda-powertools exactly"
    return found.group(1)


def test_the_pinned_release_has_a_known_layer_version() -> None:
    release = pinned_release()
    assert TABLE["pinned_release"] == release
    assert isinstance(TABLE["layer_versions"][release], int)


def test_the_tests_run_the_release_the_layer_carries() -> None:
    assert version("aws-lambda-powertools") == TABLE["pinned_release"]


def test_the_runtime_is_one_the_realtime_module_accepts() -> None:
    variables = (PROJECT_ROOT / "terraform" / "modules" / "realtime" / "variables.tf").read_text()
    block = variables[variables.index('variable "lambda_runtime"') :]
    allowed = re.findall(r'"(python3\.\d+)"', block[: block.index("\n}\n")])
    assert TABLE["python_runtime"] in allowed
    assert TABLE["account_id"] == "017000801446" and TABLE["architecture"] == "x86_64"

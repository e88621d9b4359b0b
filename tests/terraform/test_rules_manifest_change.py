"""One change in the rules manifest reaches every reader: Terraform's plan of the realtime
module, the local detector and the Flink job (runs Terraform offline with a mocked provider)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from ecomm_cli.detect import manifest
from ecomm_cli.detect.engine import Detector
from ecomm_cli.detect.model import Event
from ecomm_cli.detect.rules import Thresholds
from ecomm_cli.infra import provider_mirror, tf_check
from ecomm_cli.settings import PROJECT_ROOT, Settings
from tests.unit.test_rules_manifest import copy_rules, edit

pytestmark = pytest.mark.terraform


def test_one_manifest_change_reaches_terraform_the_detector_and_flink(tmp_path: Path) -> None:
    """Raise flood's threshold in a copy of the manifest: Terraform's plan passes the new value
    to the Flink application, the detector fires at the new value only, and the Flink job
    compares against it."""
    folder = copy_rules(tmp_path)
    default = manifest.load().rule("flood").parameter("flood_events_per_window").value
    raised = int(default) + 3
    edit(folder, {"at": ("flood", "flood_events_per_window", "value"), "value": raised})
    changed = manifest.load(folder / "rules.json")

    # The detector: raised - 1 actions in one window are quiet, raised fire.
    thresholds = Thresholds(changed)
    window_ms = int(thresholds.flood_window_seconds * 1000)

    def flood_alerts(actions: int) -> int:
        events = [
            Event(i * (window_ms // (actions + 1)), "view", i, 7, "s") for i in range(actions)
        ]
        return sum(a.rule == "flood" for a in Detector(thresholds).run(events))

    assert (flood_alerts(raised - 1), flood_alerts(raised)) == (0, 1)

    # The Flink job, with no rule property given: the manifest's value is the comparison.
    spec = importlib.util.spec_from_file_location("flink_main", PROJECT_ROOT / "flink" / "main.py")
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = app  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(app)
    arn = "arn:aws:kinesis:eu-west-1:123456789012:stream"
    job = {
        "aws_region": "eu-west-1",
        "events_stream_arn": f"{arn}/e",
        "anomalies_stream_arn": f"{arn}/a",
    }
    plan = app.plan_job(job, folder)
    flood = next(s for s in plan.inserts if "'flood'" in s)
    assert f"WHERE actions >= {raised}" in flood

    # Terraform: the realtime module, planned against the copy, passes the new value on.
    module = tmp_path / "terraform" / "modules" / "realtime"
    shutil.copytree(
        PROJECT_ROOT / "terraform" / "modules" / "realtime",
        module,
        ignore=shutil.ignore_patterns(".terraform*"),
    )
    shutil.copytree(PROJECT_ROOT / "terraform" / "mocks", tmp_path / "terraform" / "mocks")
    # The module's own test variables, and one run that expects the raised value.
    own = (module / "tests" / "realtime.tftest.hcl").read_text()
    start = own.index("variables {")
    variables = own[start : own.index("\n}\n", start) + 3]
    properties = 'output.flink_runtime_properties["ecomm.rules"]["flood_events_per_window"]'
    (module / "tests" / "manifest_change.tftest.hcl").write_text(
        'mock_provider "aws" {\n  source = "../../mocks/aws"\n}\n\n'
        + variables
        + '\nrun "the_manifest_reaches_the_flink_properties" {\n  command = plan\n'
        + f'  assert {{\n    condition = {properties} == "{raised}"\n'
        + '    error_message = "the manifest value must reach the runtime properties"\n  }\n}\n'
    )
    env = {
        **os.environ,
        **provider_mirror.terraform_env(Settings.load(state_dir=tmp_path / "state")),
    }
    env["TF_IN_AUTOMATION"] = "1"
    result = tf_check.check_dir(
        module,
        ["test", "-no-color", "-filter=tests/manifest_change.tftest.hcl"],
        env,
        root=tmp_path,
    )
    assert result.ok, result.output[-3000:]
    assert "1 passed, 0 failed" in result.output

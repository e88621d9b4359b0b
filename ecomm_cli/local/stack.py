"""The local stack: the emulator plus `terraform apply` of terraform/environments/local.

Its record (`<state>/local/stack.json`) holds the emulator's pid and endpoint and the Terraform
outputs, which every other command reads to find streams, tables and buckets.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecomm_cli.errors import EcommError
from ecomm_cli.infra import artifacts, terraform
from ecomm_cli.local import emulator
from ecomm_cli.settings import Settings


@dataclass(frozen=True)
class UpResult:
    already_up: bool
    endpoint_url: str
    resources: int
    seconds: float


def _write_stack(settings: Settings, record: dict[str, Any]) -> None:
    settings.local_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.stack_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    tmp.replace(settings.stack_file)


def is_up(settings: Settings) -> bool:
    """True when the recorded emulator is ours, serving, and the apply completed."""
    stack = settings.stack()
    return bool(
        stack
        and stack.get("applied_at")
        and emulator.is_ours(int(stack["pid"]))
        and emulator.is_serving(str(stack["endpoint_url"]))
    )


def running(settings: Settings) -> Settings:
    """The local-environment settings of a stack that is up, or a one-line error saying how."""
    settings = _local(settings)
    if not is_up(settings):
        raise EcommError("the local stack is not running", hint="run `ecomm local up` first")
    return settings


def _local(settings: Settings) -> Settings:
    return settings.with_(env="local")


def up(settings: Settings, *, stream: bool = True) -> UpResult:
    """Start the emulator and apply the local environment; a no-op when already up."""
    settings = _local(settings)
    started = time.monotonic()
    stack = settings.stack()
    if stack and is_up(settings):
        return UpResult(True, stack["endpoint_url"], int(stack.get("resources", 0)), 0.0)
    # A half-started or crashed stack: clear it so the apply starts from nothing.
    down(settings)
    # A new stack starts with an empty lake (it outlives `down` so results stay readable).
    shutil.rmtree(settings.lake_dir, ignore_errors=True)
    settings.lake_dir.mkdir(parents=True, exist_ok=True)
    proc = emulator.start(settings.local_dir)
    record: dict[str, Any] = {
        "endpoint_url": proc.endpoint_url,
        "pid": proc.pid,
        "port": proc.port,
        "started_at": datetime.now(UTC).isoformat(),
    }
    _write_stack(settings, record)
    try:
        artifacts.build_all(settings)
        terraform.init(settings, stream=False)
        terraform.run(
            settings,
            [
                "apply",
                "-auto-approve",
                "-input=false",
                "-parallelism=30",
                *terraform.var_args(settings),
            ],
            stream=stream,
        )
        record["outputs"] = terraform.outputs(settings)
        record["resources"] = terraform.state_resource_count(settings)
    except BaseException:
        # Leave nothing running behind a failed or interrupted start.
        down(settings)
        raise
    record["applied_at"] = datetime.now(UTC).isoformat()
    _write_stack(settings, record)
    return UpResult(False, proc.endpoint_url, record["resources"], time.monotonic() - started)


def down(settings: Settings) -> bool:
    """Stop the emulator (only if ours) and clear the local Terraform state; keep the lake.

    The emulator holds every resource in memory, so stopping it clears them; the state file is
    removed with it so that the next `up` starts from nothing.
    """
    settings = _local(settings)
    stack = settings.stack()
    stopped = False
    if stack and "pid" in stack:
        stopped = emulator.stop(int(stack["pid"]))
    for name in ("terraform.tfstate", "terraform.tfstate.backup", "stack.json", "emulator.ready"):
        (settings.local_dir / name).unlink(missing_ok=True)
    # Consumer positions refer to the emulator's streams, which are gone with it.
    shutil.rmtree(settings.local_dir / "checkpoints", ignore_errors=True)
    return stopped


def status(settings: Settings) -> dict[str, Any]:
    """What is running and deployed, for `ecomm local status`."""
    settings = _local(settings)
    stack = settings.stack() or {}
    running = bool(stack) and emulator.is_ours(int(stack.get("pid", -1)))
    serving = running and emulator.is_serving(str(stack.get("endpoint_url")))
    return {
        "running": running,
        "serving": serving,
        "endpoint_url": stack.get("endpoint_url"),
        "pid": stack.get("pid"),
        "applied_at": stack.get("applied_at"),
        "resources": stack.get("resources"),
        "outputs": stack.get("outputs", {}),
        "lake_dir": str(settings.lake_dir),
    }

"""`ecomm etl run` on AWS: start the Glue job run and follow it to the end."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecomm_cli.errors import EcommError
from ecomm_cli.kpi.athena_engine import backoff_delays

_DONE = {"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED"}


@dataclass(frozen=True)
class GlueRun:
    """How a Glue job run ended, with the metrics Glue reports for it."""

    job_name: str
    run_id: str
    state: str
    execution_seconds: int
    dpu_seconds: float | None
    error: str | None


def run_glue_job(
    client: Any,
    job_name: str,
    arguments: dict[str, str] | None = None,
    *,
    on_state: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_wait_seconds: float = 3 * 3600,
) -> GlueRun:
    """Start `job_name` with `arguments` (`--name`: value), poll with backoff until it ends.

    `on_state` hears every state change (for progress output). A run that does not succeed is
    returned, not raised: the caller decides the exit code.
    """
    run_id = client.start_job_run(JobName=job_name, Arguments=arguments or {})["JobRunId"]
    waited, last_state = 0.0, ""
    for delay in backoff_delays(first=2.0, cap=30.0):
        run = client.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        state = run["JobRunState"]
        if state != last_state and on_state is not None:
            on_state(state)
        last_state = state
        if state in _DONE:
            return GlueRun(
                job_name=job_name,
                run_id=run_id,
                state=state,
                execution_seconds=int(run.get("ExecutionTime", 0)),
                dpu_seconds=run.get("DPUSeconds"),
                error=run.get("ErrorMessage"),
            )
        if waited >= max_wait_seconds:
            raise EcommError(
                f"Glue job run {run_id} still {state} after {waited:.0f} s",
                hint=f"aws glue get-job-run --job-name {job_name} --run-id {run_id}",
            )
        sleep(delay)
        waited += delay
    raise AssertionError("unreachable")  # backoff_delays never ends

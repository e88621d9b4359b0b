"""The Athena KPI engine and the Glue job follower against moto (in-process `mock_aws`).

moto runs no SQL: results are registered in its queue the way Athena returns them (every
cell as text, the header as the first row), and query states advance on each poll.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.athena.models import QueryResults, athena_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api import state_manager

from ecomm_cli.errors import EcommError
from ecomm_cli.etl.glue_runner import run_glue_job
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.athena_engine import MIN_BILLED_BYTES, run_athena
from ecomm_cli.kpi.parameters import KpiParameters

pytestmark = pytest.mark.aws
REGION = "eu-west-1"


@pytest.fixture
def athena() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("athena", region_name=REGION)
        client.create_work_group(
            Name="ecomm-local",
            Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/athena/"}},
        )
        yield client


def _cell(value: str | None) -> dict[str, str]:
    return {} if value is None else {"VarCharValue": value}


def register_result(columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """Queue one result set as Athena returns it: header row first, every value as text."""
    backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    header = {"Data": [_cell(name) for name, _ in columns]}
    backend.query_results_queue.append(
        QueryResults(
            rows=[header, *({"Data": [_cell(v) for v in row]} for row in rows)],
            column_info=[{"Name": n, "Type": t, "Label": n} for n, t in columns],
        )
    )


def test_runs_the_kpi_in_the_workgroup_with_bound_parameters(athena: Any) -> None:
    query = catalog.load("revenue")
    register_result(
        [
            ("event_date", "varchar"),
            ("orders", "bigint"),
            ("purchased_items", "bigint"),
            ("buyers", "bigint"),
            ("revenue", "decimal(38,2)"),
            ("average_order_value", "double"),
        ],
        [
            ["2019-10-01", "172", "1513", "170", "7881.68", "45.82"],
            ["all", "0", "0", "0", "0", None],
        ],
    )
    sleeps: list[float] = []
    values = KpiParameters.from_options("2019-10-01", "2019-10-31").bind(query)
    # Each state lasts two polls, as a query that takes a moment on Athena.
    state_manager.set_transition(
        model_name="athena::execution", transition={"progression": "manual", "times": 2}
    )
    try:
        result = run_athena(
            athena, query, values, workgroup="ecomm-local", database="ecomm", sleep=sleeps.append
        )
    finally:
        state_manager.unset_transition("athena::execution")

    assert result.columns == query.columns
    assert result.rows[0] == {
        "event_date": "2019-10-01",
        "orders": 172,
        "purchased_items": 1513,
        "buyers": 170,
        "revenue": Decimal("7881.68"),
        "average_order_value": 45.82,
    }
    assert result.rows[1]["average_order_value"] is None
    # QUEUED, RUNNING then SUCCEEDED: the waits between polls grow.
    assert len(sleeps) >= 2
    assert sleeps == sorted(sleeps) and sleeps[0] == 0.25 and sleeps[1] == 0.5
    execution = athena.get_query_execution(QueryExecutionId=result.query_execution_id)
    sent = execution["QueryExecution"]
    assert sent["WorkGroup"] == "ecomm-local"
    assert sent["QueryExecutionContext"] == {"Database": "ecomm"}
    # revenue binds the date range twice (the list of days, then the purchases).
    assert sent["ExecutionParameters"] == ["'2019-10-01'", "'2019-10-31'"] * 2
    assert sent["Query"] == query.sql  # the file as written: Athena runs Trino itself
    assert result.data_scanned_bytes == 0
    assert result.cost_usd == pytest.approx(MIN_BILLED_BYTES / 1024**4 * 5.0)


def test_a_query_that_never_finishes_is_stopped(athena: Any) -> None:
    state_manager.set_transition(
        model_name="athena::execution", transition={"progression": "manual", "times": 1000}
    )
    try:
        sleeps: list[float] = []
        with pytest.raises(EcommError, match="still running"):
            run_athena(
                athena,
                catalog.load("unique-visitors"),
                ["0001-01-01", "9999-12-31"],
                workgroup="ecomm-local",
                database="ecomm",
                max_wait_seconds=3,
                sleep=sleeps.append,
            )
        assert sum(sleeps[:-1]) < 3 <= sum(sleeps)
        ids = athena.list_query_executions(WorkGroup="ecomm-local")["QueryExecutionIds"]
        state = athena.get_query_execution(QueryExecutionId=ids[-1])["QueryExecution"]["Status"]
        assert state["State"] == "CANCELLED"
    finally:
        state_manager.unset_transition("athena::execution")


def test_glue_job_run_is_followed_to_its_end() -> None:
    with mock_aws():
        glue = boto3.client("glue", region_name=REGION)
        glue.create_job(
            Name="ecomm-curate-events",
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://artifacts/curate_events.py"},
        )
        states: list[str] = []
        run = run_glue_job(
            glue,
            "ecomm-curate-events",
            {"--ingest_from": "2019-10-02"},
            on_state=states.append,
            sleep=lambda _: None,
        )
        assert run.state == "SUCCEEDED"
        assert states[-1] == "SUCCEEDED"
        sent = glue.get_job_run(JobName="ecomm-curate-events", RunId=run.run_id)["JobRun"]
        assert sent["Arguments"] == {"--ingest_from": "2019-10-02"}


def test_kpi_command_on_athena_through_the_emulator(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ecomm kpi NAME --engine athena` end to end: client factory, workgroup, rendering."""
    import json
    import uuid

    from typer.testing import CliRunner

    from ecomm_cli.app import app
    from tests.support.athena_results import queue_result

    workgroup = f"ecomm-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "athena",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_work_group(Name=workgroup)
    # moto's API for canned Athena results in server mode (it runs no SQL itself).
    columns = [("event_date", "varchar"), ("unique_visitors", "bigint"), ("sessions", "bigint")]
    queue_result(moto_endpoint, REGION, columns, [["2019-10-01", "4504", "5066"]])
    monkeypatch.setenv("ECOMM_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("ECOMM_REGION", REGION)

    result = CliRunner().invoke(
        app,
        [
            "kpi",
            "unique-visitors",
            "--engine",
            "athena",
            "--workgroup",
            workgroup,
            "--database",
            "ecomm",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"event_date": "2019-10-01", "unique_visitors": 4504, "sessions": 5066}
    ]
    assert "on athena" in result.stderr and "cost $" in result.stderr

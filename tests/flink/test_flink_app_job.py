"""flink/main.py's job on a real PyFlink: filesystem source and sink in place of Kinesis.

PyFlink lives in its own virtual environment (it pins old numpy/pyarrow), so the job runs in a
subprocess of that interpreter: ECOMM_PYFLINK_PYTHON, else .venv-flink/bin/python.
The same tables, placeholder substitution and statement set as on Managed Flink; only the
connector options differ.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from alerting.offenders import offender_key, parse_anomaly

pytestmark = pytest.mark.flink

ROOT = Path(__file__).resolve().parents[2]
STREAM_ARN_PREFIX = "arn:aws:kinesis:eu-west-1:123456789012:stream"
GROUPS = [
    {
        "PropertyGroupId": "ecomm.streams",
        "PropertyMap": {
            "events_stream_arn": f"{STREAM_ARN_PREFIX}/ecomm-dev-events",
            "anomalies_stream_arn": f"{STREAM_ARN_PREFIX}/ecomm-dev-anomalies",
            "aws_region": "eu-west-1",
        },
    },
    {
        "PropertyGroupId": "ecomm.rules",
        "PropertyMap": {
            "flood_events_per_window": "15",
            "flood_window_seconds": "10",
            "watermark_seconds": "5",
            "idle_timeout_seconds": "30",
        },
    },
]
# A rule shaped like sql/realtime's (written here, so this test does not move with them).
RULE = """-- flood: a comment with a ; and ${not_a_property}
INSERT INTO anomalies
SELECT user_id, 'flood' AS rule,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_start,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_end,
  COUNT(*) AS `count`, '[{"note": "a;b"}]' AS samples
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_time), INTERVAL '${flood_window_seconds}' SECOND))
GROUP BY window_start, window_end, user_id
HAVING COUNT(*) >= ${flood_events_per_window}
"""

_DRIVER = """
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("ecomm_flink_main", sys.argv[1])
app = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = app
spec.loader.exec_module(app)
props = app.flatten_properties(app.load_property_groups(Path(sys.argv[2])))
fmt = {"format": "json", "json.timestamp-format.standard": "ISO-8601"}
plan = app.plan_job(
    props,
    Path(sys.argv[3]),
    source_options={"connector": "filesystem", "path": sys.argv[4], **fmt},
    sink_options={"connector": "filesystem", "path": sys.argv[5], **fmt},
)
app.run(plan, wait=True)
"""


def _pyflink_python() -> Path | None:
    """The PyFlink interpreter, or None when this machine has none configured."""
    configured = os.environ.get("ECOMM_PYFLINK_PYTHON")
    candidate = Path(configured) if configured else ROOT / ".venv-flink" / "bin" / "python"
    return candidate if candidate.is_file() else None


def test_the_job_runs_on_pyflink_and_writes_what_the_lambda_reads(tmp_path: Path) -> None:
    python = _pyflink_python()
    # A missing interpreter is a failure, not a skip: `make test` creates .venv-flink.
    assert python is not None, "no PyFlink interpreter: `make test` creates .venv-flink"
    folder = tmp_path / "sql" / "realtime"
    folder.mkdir(parents=True)
    (folder / "flood.sql").write_text(RULE, encoding="utf-8")
    # The manifest names the rule file (its parameters come from the properties below).
    manifest = {"settings": {}, "rules": {"flood": {"sql": "flood.sql", "parameters": {}}}}
    (folder / "rules.json").write_text(json.dumps(manifest), encoding="utf-8")
    props = tmp_path / "props.json"
    props.write_text(json.dumps(GROUPS), encoding="utf-8")
    event = {"event_type": "view", "category_id": None, "category_code": None, "brand": None}
    rows = [  # user 42: 20 events in one 10-s window; user 7: 3 events, then one much later
        {
            **event,
            "event_time": f"2019-10-01T00:00:0{i % 10}Z",
            "product_id": i,
            "price": 1.5,
            "user_id": 42,
            "user_session": "s42",
            "ingested_at": "2026-01-01T00:00:00Z",
        }
        for i in range(20)
    ] + [
        {
            **event,
            "event_time": t,
            "product_id": 1,
            "price": 2.0,
            "user_id": 7,
            "user_session": "s7",
            "ingested_at": "2026-01-01T00:00:00Z",
        }
        for t in (
            "2019-10-01T00:00:01Z",
            "2019-10-01T00:00:02Z",
            "2019-10-01T00:00:03Z",
            "2019-10-01T00:10:00Z",
        )
    ]
    source = tmp_path / "events.json"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    sink = tmp_path / "anomalies"

    proc = subprocess.run(
        [
            str(python),
            "-c",
            _DRIVER,
            str(ROOT / "flink" / "main.py"),
            str(props),
            str(folder),
            str(source),
            str(sink),
        ],
        capture_output=True,
        text=True,
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [
        line
        for f in sorted(sink.rglob("*"))
        if f.is_file() and not f.name.startswith(".")
        for line in f.read_text(encoding="utf-8").splitlines()
        if line
    ]
    anomalies = [parse_anomaly(line.encode()) for line in lines]
    assert [offender_key(a) for a in anomalies] == [
        ("user#42", "rule#flood#window#2019-10-01T00:00:00Z#2019-10-01T00:00:10Z")
    ]
    assert anomalies[0].count == 20

"""The pure parts of the Managed Flink application (flink/main.py), without PyFlink.

main.py is loaded from its file, as Managed Flink runs it (a script at the zip's root).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ecomm_flink_main", ROOT / "flink" / "main.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


app = _load_app()

STREAM_ARN_PREFIX = "arn:aws:kinesis:eu-west-1:123456789012:stream"
GROUPS: list[dict[str, Any]] = [
    {
        "PropertyGroupId": "kinesis.analytics.flink.run.options",
        "PropertyMap": {"python": "main.py"},
    },
    {
        "PropertyGroupId": "ecomm.streams",
        "PropertyMap": {
            "events_stream_name": "ecomm-dev-events",
            "events_stream_arn": f"{STREAM_ARN_PREFIX}/ecomm-dev-events",
            "anomalies_stream_name": "ecomm-dev-anomalies",
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

RULE = """-- flood: a comment with a ; and a 'quote and ${not_a_property}
INSERT INTO anomalies
SELECT user_id, 'flood' AS rule,
  DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_start,
  DATE_FORMAT(window_end, 'yyyy-MM-dd''T''HH:mm:ss''Z''') AS window_end,
  COUNT(*) AS `count`, '[{"note": "a;b"}]' AS samples
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_time), INTERVAL '${flood_window_seconds}' SECOND))
GROUP BY window_start, window_end, user_id
HAVING COUNT(*) >= ${flood_events_per_window}
"""


def properties() -> dict[str, str]:
    return app.flatten_properties(app.parse_property_groups(GROUPS))


def rules_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    """A rule folder with a manifest naming each rule file (not the shared `_*.sql` ones)."""
    folder = tmp_path / "sql" / "realtime"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    manifest = {
        "settings": {},
        "rules": {
            name.removesuffix(".sql"): {"sql": name, "parameters": {}}
            for name in files
            if not name.startswith("_")
        },
    }
    (folder / app.MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_managed_flink_property_groups_flatten_to_the_platform_names() -> None:
    flat = properties()
    assert flat["flood_window_seconds"] == "10"
    assert flat["anomalies_stream_name"] == "ecomm-dev-anomalies"
    assert "python" not in flat  # the run options are Managed Flink's, not the platform's


def test_the_terraform_output_shape_is_accepted_too() -> None:
    mapping = {
        "ecomm.streams": {"aws_region": "eu-west-1"},
        "ecomm.rules": {"cart_stuffer_adds": 20},
    }
    flat = app.flatten_properties(app.parse_property_groups(mapping))
    assert flat == {"aws_region": "eu-west-1", "cart_stuffer_adds": "20"}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("just text", "list of property groups"),
        ([{"PropertyMap": {}}], "PropertyGroupId"),
        ([{"PropertyGroupId": "ecomm.rules", "PropertyMap": [1, 2]}], "not a mapping"),
    ],
)
def test_malformed_property_documents_are_refused(document: Any, reason: str) -> None:
    with pytest.raises(app.ConfigError, match=reason):
        app.parse_property_groups(document)


def test_a_name_set_twice_differently_is_refused() -> None:
    groups = {"ecomm.a": {"x": "1"}, "ecomm.b": {"x": "2"}}
    with pytest.raises(app.ConfigError, match="'x' is set twice"):
        app.flatten_properties(groups)


def test_properties_come_from_the_env_var_or_the_managed_flink_file(tmp_path: Path) -> None:
    assert app.properties_path({}) == Path("/etc/flink/application_properties.json")
    local = tmp_path / "props.json"
    assert app.properties_path({"ECOMM_FLINK_PROPERTIES": str(local)}) == local
    with pytest.raises(app.ConfigError, match="not found"):
        app.load_property_groups(local)
    local.write_text("{oops", encoding="utf-8")
    with pytest.raises(app.ConfigError, match="not JSON"):
        app.load_property_groups(local)
    local.write_text(json.dumps(GROUPS), encoding="utf-8")
    assert app.load_property_groups(local)["ecomm.rules"]["watermark_seconds"] == "5"


def test_job_settings_are_typed_and_checked() -> None:
    settings = app.job_settings(properties())
    assert (settings.watermark_seconds, settings.idle_timeout_seconds) == (5, 30)
    assert settings.source_init_position == "LATEST"
    for name, value, reason in [
        ("watermark_seconds", "five", "must be a number"),
        ("watermark_seconds", "2.5", "whole seconds"),
        ("idle_timeout_seconds", "0", "whole seconds"),
        ("source_init_position", "AT_TIMESTAMP", "LATEST or TRIM_HORIZON"),
    ]:
        with pytest.raises(app.ConfigError, match=reason):
            app.job_settings({**properties(), name: value})
    broken = {k: v for k, v in properties().items() if k != "events_stream_arn"}
    with pytest.raises(app.ConfigError, match="events_stream_arn"):
        app.job_settings(broken)


def test_placeholders_are_substituted_and_unknown_ones_named() -> None:
    sql = "SELECT ${a} FROM t WHERE n >= ${b} AND m = ${a}"
    assert (
        app.substitute(sql, {"a": "10", "b": "2.5"}) == "SELECT 10 FROM t WHERE n >= 2.5 AND m = 10"
    )
    with pytest.raises(app.ConfigError, match=r"flood\.sql: no runtime property for placeholder"):
        app.substitute("SELECT ${missing}", {}, source="flood.sql")


@pytest.mark.parametrize("value", ["1; DROP TABLE events", "1' OR '1'='1", "10 SECOND", ""])
def test_a_value_that_is_not_a_number_or_identifier_never_reaches_the_sql(value: str) -> None:
    with pytest.raises(app.ConfigError, match="not a number or an identifier"):
        app.substitute("SELECT ${x}", {"x": value})


def test_statements_split_on_semicolons_outside_quotes_and_comments() -> None:
    text = (
        "-- a comment; with 'a quote\n"
        "CREATE VIEW v AS SELECT 'a;b' AS s;\n\n"
        "INSERT INTO t SELECT `c;d`, 'it''s;' FROM v;\n"
        "-- trailing"
    )
    assert app.split_statements(text) == [
        "CREATE VIEW v AS SELECT 'a;b' AS s",
        "INSERT INTO t SELECT `c;d`, 'it''s;' FROM v",
    ]
    with pytest.raises(app.ConfigError, match="unterminated"):
        app.split_statements("SELECT 'open")


def test_the_events_table_has_event_time_and_its_watermark() -> None:
    ddl = app.events_table_ddl({"connector": "kinesis", "it's": "quoted"}, watermark_seconds=7)
    assert "event_time TIMESTAMP_LTZ(3)" in ddl
    assert "WATERMARK FOR event_time AS event_time - INTERVAL '7' SECOND" in ddl
    assert "'it''s' = 'quoted'" in ddl
    for column in (
        "event_type STRING",
        "product_id BIGINT",
        "user_id BIGINT",
        "user_session STRING",
    ):
        assert column in ddl


def test_the_anomalies_table_carries_the_alert_contract() -> None:
    ddl = app.anomalies_table_ddl({"connector": "blackhole"})
    columns = re.findall(r"^\s+(`?\w+`?) (\w+)", ddl, flags=re.MULTILINE)
    assert columns == [
        ("user_id", "BIGINT"),
        ("rule", "STRING"),
        ("window_start", "STRING"),
        ("window_end", "STRING"),
        ("`count`", "BIGINT"),
        ("samples", "STRING"),
    ]


def test_kinesis_options_name_the_streams_by_arn_and_read_json() -> None:
    settings = app.job_settings(properties())
    source = app.kinesis_source_options(settings)
    sink = app.kinesis_sink_options(settings)
    assert source["stream.arn"].endswith("stream/ecomm-dev-events")
    assert sink["stream.arn"].endswith("stream/ecomm-dev-anomalies")
    assert source["aws.region"] == sink["aws.region"] == "eu-west-1"
    assert source["format"] == sink["format"] == "json"
    assert source["json.timestamp-format.standard"] == "ISO-8601"


def test_the_source_reads_through_the_terraform_owned_consumer() -> None:
    """With the consumer Terraform registers, the source is enhanced fan-out and leaves the
    consumer's lifecycle to Terraform; without one (tests, local files) it polls."""
    settings = app.job_settings({**properties(), "events_consumer_name": "ecomm-dev-anomaly-rules"})
    source = app.kinesis_source_options(settings)
    assert source["source.reader.type"] == "EFO"
    assert source["source.efo.consumer.name"] == "ecomm-dev-anomaly-rules"
    assert source["source.efo.lifecycle"] == "SELF_MANAGED"
    polling = app.kinesis_source_options(app.job_settings(properties()))
    assert "source.reader.type" not in polling


def test_the_job_plan_runs_every_rule_file_in_one_statement_set(tmp_path: Path) -> None:
    folder = rules_dir(
        tmp_path,
        {
            "b_flood.sql": RULE,
            "_view.sql": "CREATE TEMPORARY VIEW actions AS SELECT * FROM events;",
            "c_scraper.sql": RULE.replace("'flood'", "'scraper'"),
        },
    )
    plan = app.plan_job(properties(), folder)

    assert [s.split()[0] for s in plan.ddl] == ["CREATE", "CREATE"]
    assert "WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND" in plan.ddl[0]
    assert plan.setup == ["CREATE TEMPORARY VIEW actions AS SELECT * FROM events"]
    assert len(plan.inserts) == 2
    assert "INTERVAL '10' SECOND" in plan.inserts[0] and ">= 15" in plan.inserts[0]
    assert "'scraper'" in plan.inserts[1]
    assert "${" not in "".join(plan.inserts)
    assert plan.table_config == {
        "table.local-time-zone": "UTC",
        "table.exec.source.idle-timeout": "30 s",
    }


def test_other_connectors_can_replace_kinesis(tmp_path: Path) -> None:
    folder = rules_dir(tmp_path, {"flood.sql": RULE})
    plan = app.plan_job(
        properties(),
        folder,
        source_options={"connector": "filesystem"},
        sink_options={"connector": "print"},
    )
    assert "'connector' = 'filesystem'" in plan.ddl[0]
    assert "'connector' = 'print'" in plan.ddl[1]


def test_missing_or_empty_rules_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(app.ConfigError, match="no rules manifest"):
        app.plan_job(properties(), tmp_path)
    folder = rules_dir(tmp_path, {"_only_a_view.sql": "CREATE TEMPORARY VIEW v AS SELECT 1"})
    with pytest.raises(app.ConfigError, match="no INSERT"):
        app.plan_job(properties(), folder)


def test_a_rule_file_the_manifest_does_not_name_is_refused(tmp_path: Path) -> None:
    folder = rules_dir(tmp_path, {"flood.sql": RULE})
    (folder / "forgotten.sql").write_text(RULE, encoding="utf-8")
    with pytest.raises(app.ConfigError, match=r"not in rules\.json: forgotten\.sql"):
        app.plan_job(properties(), folder)
    (folder / "forgotten.sql").unlink()
    (folder / "flood.sql").unlink()
    with pytest.raises(app.ConfigError, match=r"not found: flood\.sql"):
        app.plan_job(properties(), folder)


def test_an_absent_rule_property_takes_the_manifest_default() -> None:
    shipped = ROOT / "sql" / "realtime"
    without = {k: v for k, v in properties().items() if k != "traffic_spike_min_events"}
    plan = app.plan_job(without, shipped)
    spike = next(s for s in plan.inserts if "'traffic_spike'" in s)
    default = json.loads((shipped / "rules.json").read_text())["rules"]["traffic_spike"]
    assert f"total >= {default['parameters']['traffic_spike_min_events']['value']}" in spike


def test_main_reports_a_configuration_error_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = rules_dir(
        tmp_path, {"flood.sql": RULE.replace("${flood_events_per_window}", "${nope}")}
    )
    props = tmp_path / "props.json"
    props.write_text(json.dumps(GROUPS), encoding="utf-8")

    code = app.main({"ECOMM_FLINK_PROPERTIES": str(props), "ECOMM_FLINK_SQL_DIR": str(folder)})

    err = capsys.readouterr().err
    assert code == 2
    assert err == "error: flood.sql: no runtime property for placeholder(s) nope\n"


def test_every_placeholder_of_the_shipped_rules_is_a_runtime_property() -> None:
    shipped = sorted((ROOT / "sql" / "realtime").glob("*.sql"))
    assert shipped, "no rule files in sql/realtime"
    streams = {"events_stream_name", "events_stream_arn", "anomalies_stream_name"}
    rules = set(app.read_manifest(ROOT / "sql" / "realtime").defaults)
    known = rules | streams | {"anomalies_stream_arn", "aws_region"}
    for path in shipped:
        for statement in app.split_statements(path.read_text(encoding="utf-8")):
            used = set(re.findall(r"\$\{(\w+)\}", statement))
            assert used <= known, f"{path.name} uses unknown placeholders {sorted(used - known)}"
            assert app.is_insert(statement) or statement.upper().startswith("CREATE")

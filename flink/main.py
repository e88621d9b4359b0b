"""The Managed Service for Apache Flink application: the real-time rules of sql/realtime.

Packaged by `ecomm plan` as a zip holding this file, `sql/realtime/` (the rules manifest
`rules.json` and the SQL files) and, on AWS, the Kinesis SQL connector jar under `lib/`. At
start it:

1. reads the runtime properties Terraform sets (on Managed Flink the file
   /etc/flink/application_properties.json; elsewhere the file named by ECOMM_FLINK_PROPERTIES),
   and takes the manifest's default for a rule parameter that is absent,
2. declares the Kinesis source table `events` (event time from the event's own `event_time`,
   with a bounded out-of-orderness watermark) and the sink table `anomalies`,
3. loads the shared views (`_*.sql`) and every rule file the manifest names, substitutes their
   `${name}` placeholders from the properties, and
4. runs all rules in one statement set (one job, one read of the source).

Everything except `run()` is plain Python, importable and tested without PyFlink.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANAGED_FLINK_PROPERTIES = Path("/etc/flink/application_properties.json")
PROPERTIES_ENV = "ECOMM_FLINK_PROPERTIES"
SQL_DIR_ENV = "ECOMM_FLINK_SQL_DIR"
# Property groups that carry the platform's settings (Terraform: modules/realtime).
PLATFORM_GROUP_PREFIX = "ecomm."
# The rules manifest, beside the rule files (sql/realtime/rules.json).
MANIFEST_NAME = "rules.json"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A substituted value goes into SQL text (Flink SQL has no bind parameters for DDL or window
# sizes), so only numbers and plain identifiers are accepted: nothing that could end a literal.
_SAFE_VALUE = re.compile(r"^(-?\d+(\.\d+)?|[A-Za-z_][A-Za-z0-9_]*)$")


class ConfigError(ValueError):
    """Bad runtime properties or rule files; the message names what to fix."""


# --- runtime properties ------------------------------------------------------------------------


def parse_property_groups(document: Any) -> dict[str, dict[str, str]]:
    """Property groups from the Managed Flink file shape or a plain mapping.

    Managed Flink writes `[{"PropertyGroupId": g, "PropertyMap": {...}}, ...]`; a mapping
    `{g: {...}}` (the realtime module's `flink_runtime_properties` output) is accepted too.
    """
    if isinstance(document, Mapping):
        pairs = list(document.items())
    elif isinstance(document, list):
        pairs = []
        for entry in document:
            if not isinstance(entry, Mapping) or "PropertyGroupId" not in entry:
                raise ConfigError(f"property group without PropertyGroupId: {entry!r}")
            pairs.append((entry["PropertyGroupId"], entry.get("PropertyMap", {})))
    else:
        raise ConfigError("runtime properties must be a list of property groups or a mapping")
    groups: dict[str, dict[str, str]] = {}
    for group_id, values in pairs:
        if not isinstance(values, Mapping):
            raise ConfigError(f"property group {group_id!r} is not a mapping")
        groups[str(group_id)] = {str(k): str(v) for k, v in values.items()}
    return groups


def load_property_groups(path: Path) -> dict[str, dict[str, str]]:
    """Read and parse a runtime properties file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"runtime properties file not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"runtime properties file {path} is not JSON: {exc}") from exc
    return parse_property_groups(document)


def flatten_properties(groups: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """One name -> value map from every `ecomm.*` group; a name in two groups is an error."""
    flat: dict[str, str] = {}
    for group_id in sorted(groups):
        if not group_id.startswith(PLATFORM_GROUP_PREFIX):
            continue
        for name, value in groups[group_id].items():
            if name in flat and flat[name] != value:
                raise ConfigError(f"property {name!r} is set twice with different values")
            flat[name] = value
    return flat


def properties_path(environ: Mapping[str, str]) -> Path:
    """Where the runtime properties are: ECOMM_FLINK_PROPERTIES, else Managed Flink's file."""
    override = environ.get(PROPERTIES_ENV)
    return Path(override) if override else MANAGED_FLINK_PROPERTIES


@dataclass(frozen=True)
class JobSettings:
    """The typed settings the job itself needs (the rules read theirs from placeholders)."""

    aws_region: str
    events_stream_arn: str
    anomalies_stream_arn: str
    watermark_seconds: int
    idle_timeout_seconds: int
    # Where a fresh job starts reading; a restart from a snapshot resumes where it was.
    source_init_position: str = "LATEST"
    # The enhanced fan-out consumer Terraform registers for the job (None: polling, which the
    # 5.0 source does without pause, taking the reads Firehose needs: AWS always sets one).
    events_consumer_name: str | None = None


def _whole_seconds(properties: Mapping[str, str], name: str, low: int, high: int) -> int:
    raw = properties.get(name)
    if raw is None:
        raise ConfigError(f"runtime property {name} is missing")
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"runtime property {name} must be a number, got {raw!r}") from exc
    if not value.is_integer() or not low <= value <= high:
        raise ConfigError(f"runtime property {name} must be whole seconds in [{low}, {high}]")
    return int(value)


def job_settings(properties: Mapping[str, str]) -> JobSettings:
    """Validate and type the settings the DDL needs."""
    missing = [
        name
        for name in ("aws_region", "events_stream_arn", "anomalies_stream_arn")
        if not properties.get(name)
    ]
    if missing:
        raise ConfigError(f"runtime properties missing: {', '.join(missing)}")
    position = properties.get("source_init_position", "LATEST")
    if position not in {"LATEST", "TRIM_HORIZON"}:
        raise ConfigError(f"source_init_position must be LATEST or TRIM_HORIZON, got {position!r}")
    return JobSettings(
        aws_region=properties["aws_region"],
        events_stream_arn=properties["events_stream_arn"],
        anomalies_stream_arn=properties["anomalies_stream_arn"],
        watermark_seconds=_whole_seconds(properties, "watermark_seconds", 0, 300),
        idle_timeout_seconds=_whole_seconds(properties, "idle_timeout_seconds", 1, 3600),
        source_init_position=position,
        events_consumer_name=properties.get("events_consumer_name") or None,
    )


# --- the rules manifest --------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSet:
    """What the manifest tells the job: the rule files in order, and every property the rules
    read with its default (the manifest's rule parameters and the settings used by flink)."""

    rule_files: tuple[str, ...]
    defaults: dict[str, str]


def read_manifest(sql_dir: Path) -> RuleSet:
    """The manifest's rule files and property defaults; a missing or malformed manifest, or a
    rule file it names that is not there, is a configuration error. (ecomm_cli validates the
    manifest fully; this app is shipped alone in its zip, so it reads only what it needs.)"""
    path = sql_dir / MANIFEST_NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        rules = document["rules"]
        defaults = {
            name: _text(parameter["value"])
            for rule in rules.values()
            for name, parameter in rule["parameters"].items()
        }
        defaults.update(
            (name, _text(setting["value"]))
            for name, setting in document["settings"].items()
            if "flink" in setting.get("used_by", ())
        )
        files = tuple(str(rule["sql"]) for rule in rules.values())
    except FileNotFoundError as exc:
        raise ConfigError(f"no rules manifest at {path}") from exc
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"rules manifest {path} is malformed: {exc!r}") from exc
    missing = [f for f in files if not (sql_dir / f).is_file()]
    if missing:
        raise ConfigError(f"rule file(s) named by {path} not found: {', '.join(missing)}")
    return RuleSet(rule_files=files, defaults=defaults)


def _text(value: Any) -> str:
    # JSON numbers as the SQL wants them: 4.0 stays 4.0, 20 stays 20.
    return str(value)


def with_defaults(properties: Mapping[str, str], rules: RuleSet) -> dict[str, str]:
    """The runtime properties, with the manifest's default for every rule property absent."""
    return {**rules.defaults, **properties}


# --- rule SQL ----------------------------------------------------------------------------------


def substitute(sql: str, values: Mapping[str, str], source: str = "SQL") -> str:
    """Replace every `${name}` with its value; unknown names and unsafe values are errors."""
    names = set(_PLACEHOLDER.findall(sql))
    unknown = sorted(names - values.keys())
    if unknown:
        raise ConfigError(f"{source}: no runtime property for placeholder(s) {', '.join(unknown)}")
    for name in sorted(names):
        if not _SAFE_VALUE.match(values[name]):
            raise ConfigError(
                f"{source}: property {name}={values[name]!r} is not a number or an identifier"
            )
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], sql)


def split_statements(sql: str) -> list[str]:
    """Split SQL text on `;`, ignoring `--` comments and anything inside quotes.

    Comments are dropped (they may hold `;` or quotes), so each statement is pure SQL.
    """
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql)
    quote: str | None = None
    while i < n:
        ch = sql[i]
        if quote:
            current.append(ch)
            if ch == quote:
                # A doubled quote ('' or ``) is an escaped quote, not the end of the literal.
                if i + 1 < n and sql[i + 1] == quote:
                    current.append(sql[i + 1])
                    i += 1
                else:
                    quote = None
        elif ch in "'`\"":
            quote = ch
            current.append(ch)
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end
            continue
        elif ch == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quote:
        raise ConfigError("unterminated quoted literal in SQL")
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]


def is_insert(statement: str) -> bool:
    """INSERT statements run together in the statement set; anything else runs at once."""
    return statement.lstrip().upper().startswith(("INSERT ", "INSERT\n", "INSERT\t"))


# --- tables ------------------------------------------------------------------------------------


def _with_clause(options: Mapping[str, str]) -> str:
    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    body = ",\n".join(f"  {quoted(k)} = {quoted(v)}" for k, v in options.items())
    return f"WITH (\n{body}\n)"


def events_table_ddl(options: Mapping[str, str], watermark_seconds: int) -> str:
    """The `events` source table: the event contract, event time and its watermark.

    `event_time` is ISO-8601 UTC with a `Z` in the records, hence TIMESTAMP_LTZ(3) and the
    ISO-8601 JSON timestamp format; the session time zone is UTC, so DATE_FORMAT in the rules
    prints UTC. A record the JSON format cannot read fails the job loudly (restarts and the
    downtime alarm) rather than vanishing: the producer validates the contract before sending.
    """
    return (
        "CREATE TABLE events (\n"
        "  event_time TIMESTAMP_LTZ(3),\n"
        "  event_type STRING,\n"
        "  product_id BIGINT,\n"
        "  category_id BIGINT,\n"
        "  category_code STRING,\n"
        "  brand STRING,\n"
        "  price DOUBLE,\n"
        "  user_id BIGINT,\n"
        "  user_session STRING,\n"
        "  ingested_at STRING,\n"
        f"  WATERMARK FOR event_time AS event_time - INTERVAL '{int(watermark_seconds)}' SECOND\n"
        f") {_with_clause(options)}"
    )


def anomalies_table_ddl(options: Mapping[str, str]) -> str:
    """The `anomalies` sink table: the alert contract the Lambda reads.

    Window bounds are ISO-8601 UTC strings formatted by the rules, and `samples` is a JSON
    array as text (Flink SQL builds it with JSON_OBJECT); the Lambda accepts both shapes.
    """
    return (
        "CREATE TABLE anomalies (\n"
        "  user_id BIGINT,\n"
        "  rule STRING,\n"
        "  window_start STRING,\n"
        "  window_end STRING,\n"
        "  `count` BIGINT,\n"
        "  samples STRING\n"
        f") {_with_clause(options)}"
    )


_JSON_FORMAT = {"format": "json", "json.timestamp-format.standard": "ISO-8601"}


def kinesis_source_options(settings: JobSettings) -> dict[str, str]:
    """Options of the Kinesis SQL connector (flink-connector-aws 5.x) for the source.

    With a consumer name the source reads through that enhanced fan-out consumer, which
    Terraform owns (SELF_MANAGED: the job neither registers nor deregisters it).
    """
    efo = (
        {
            "source.reader.type": "EFO",
            "source.efo.consumer.name": settings.events_consumer_name,
            "source.efo.lifecycle": "SELF_MANAGED",
        }
        if settings.events_consumer_name
        else {}
    )
    return {
        "connector": "kinesis",
        "stream.arn": settings.events_stream_arn,
        "aws.region": settings.aws_region,
        "source.init.position": settings.source_init_position,
        **efo,
        **_JSON_FORMAT,
    }


def kinesis_sink_options(settings: JobSettings) -> dict[str, str]:
    """Options of the Kinesis SQL connector for the anomalies sink."""
    return {
        "connector": "kinesis",
        "stream.arn": settings.anomalies_stream_arn,
        "aws.region": settings.aws_region,
        **_JSON_FORMAT,
    }


# --- the job -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobPlan:
    """What the job runs, in order: table DDL, other statements, then the INSERTs together."""

    table_config: dict[str, str]
    ddl: list[str]
    setup: list[str] = field(default_factory=list)
    inserts: list[str] = field(default_factory=list)


def rule_files(sql_dir: Path) -> list[Path]:
    """The shared views (`_*.sql`, sorted), then the rule files in the manifest's order.

    A rule file the manifest does not name is an error: it would never run."""
    rules = read_manifest(sql_dir)
    shared = sorted(sql_dir.glob("_*.sql"))
    named = set(rules.rule_files)
    orphans = sorted(
        p.name for p in sql_dir.glob("*.sql") if not p.name.startswith("_") and p.name not in named
    )
    if orphans:
        raise ConfigError(f"rule file(s) not in {MANIFEST_NAME}: {', '.join(orphans)}")
    return [*shared, *(sql_dir / name for name in rules.rule_files)]


def plan_job(
    properties: Mapping[str, str],
    sql_dir: Path,
    source_options: Mapping[str, str] | None = None,
    sink_options: Mapping[str, str] | None = None,
) -> JobPlan:
    """Everything the job will execute, from the properties and the rule files.

    The connector options default to Kinesis; a test or a local run passes others
    (e.g. the filesystem connector) and keeps the same tables and rules.
    """
    properties = with_defaults(properties, read_manifest(sql_dir))
    settings = job_settings(properties)
    setup: list[str] = []
    inserts: list[str] = []
    for path in rule_files(sql_dir):
        # Comments go first, so prose mentioning a placeholder cannot break the job.
        for raw in split_statements(path.read_text(encoding="utf-8")):
            statement = substitute(raw, properties, source=path.name)
            (inserts if is_insert(statement) else setup).append(statement)
    if not inserts:
        raise ConfigError(f"no INSERT statement in the rule files of {sql_dir}")
    return JobPlan(
        table_config={
            "table.local-time-zone": "UTC",
            # Windows still close when a shard goes quiet (no events, no watermark progress).
            "table.exec.source.idle-timeout": f"{settings.idle_timeout_seconds} s",
        },
        ddl=[
            events_table_ddl(
                source_options or kinesis_source_options(settings), settings.watermark_seconds
            ),
            anomalies_table_ddl(sink_options or kinesis_sink_options(settings)),
        ],
        setup=setup,
        inserts=inserts,
    )


def run(plan: JobPlan, wait: bool) -> None:
    """Submit the job on PyFlink (imported here, so the rest needs no PyFlink)."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = table_env.get_config()
    for key, value in plan.table_config.items():
        config.set(key, value)
    for statement in [*plan.ddl, *plan.setup]:
        table_env.execute_sql(statement)
    statement_set = table_env.create_statement_set()
    for statement in plan.inserts:
        statement_set.add_insert_sql(statement)
    result = statement_set.execute()
    if wait:
        # Locally the script must block until the job ends; Managed Flink keeps it running.
        result.wait()


def default_sql_dir(environ: Mapping[str, str]) -> Path:
    """The rule files: ECOMM_FLINK_SQL_DIR, else sql/realtime next to this file (the zip)."""
    override = environ.get(SQL_DIR_ENV)
    return Path(override) if override else Path(__file__).resolve().parent / "sql" / "realtime"


def main(environ: Mapping[str, str] | None = None) -> int:
    """Entry point; exit code 2 with one line on stderr for a configuration error."""
    environ = os.environ if environ is None else environ
    try:
        path = properties_path(environ)
        plan = plan_job(flatten_properties(load_property_groups(path)), default_sql_dir(environ))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    run(plan, wait=PROPERTIES_ENV in environ)
    return 0


if __name__ == "__main__":
    sys.exit(main())

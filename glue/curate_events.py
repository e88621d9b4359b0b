"""Glue job: raw clickstream events to curated Parquet, rejects with a reason to quarantine.

Runs unchanged on AWS Glue 5.x (Spark 3.5, Python 3.11) and on a plain local SparkSession
(`ecomm etl run --local`): `awsglue` is imported only when it exists.

Arguments (Glue style, `--name value`):
  --raw_path         raw zone root holding `ingest_date=YYYY-MM-DD/hour=HH/<objects>`
  --curated_path     curated root; each run writes `runs/<run id>/event_date=YYYY-MM-DD/*.parquet`
  --quarantine_path  quarantine root; written as `batch=<source>/object=<object>/*.json.gz`
  --csv_path         optional: REES46 CSV file(s) to backfill along with the raw zone
  --ingest_from      optional YYYY-MM-DD backfill: every raw object from that ingest date on,
                     curated before or not
  --full             optional `true`: every raw object, curated before or not
  --catalog_database, --catalog_table
                     optional (AWS): the Glue table whose partitions the job switches; without
                     them the job keeps the same record in `<curated_path>/_partitions.json`
  --retired_tag      optional `key=value` (AWS): the S3 tag put on curated files no reader is
                     sent to any more, which the curated bucket's lifecycle expires
                     (default ecomm-lifecycle=superseded)
  --metric_namespace optional: at the end of a successful run, publish the CurationSucceeded
                     heartbeat (and CuratedRows) there; the platform's alarm watches it

Input selection. Each run lists the raw zone and reads the objects no successful run has
curated yet: the keys of curated objects are kept in `<curated_path>/_state/ledger.json.gz`,
written only at the end of a successful run (Firehose can land an object under an hour that
earlier runs already read, so no time or prefix watermark would do).

Each run curates only the `event_date`s its rows touch, under a prefix of its own run: a new
day is written whole; a day the lake holds is appended to (its new events, deduplicated
exactly against the events it holds, become one more file, and its current files are carried
beside it by hard link or S3 server-side copy), unless it holds MAX_DAY_FILES files or the run
is `--full`, when it is rewritten whole (compacted). Once every file is written, the day's
location is switched in one step (a Glue catalog partition, or the local record), so a reader
sees either the previous complete day or the new complete day; a run that dies leaves the
previous ones. Old prefixes are retired (an S3 object tag that a lifecycle rule expires;
locally, deleted an hour later). Each file written is sorted: byte-identical on a rerun over
the same input.
"""

from __future__ import annotations

import functools
import gzip
import json
import operator
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

EVENT_TYPES = ("view", "cart", "remove_from_cart", "purchase")
# The event contract's fields, all read as text first: typing is this job's decision, not the
# reader's (a JSON reader would turn a 19-digit category_id into a lossy double).
CONTRACT_FIELDS = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
    "ingested_at",
)
# What makes two events "the same": every contract field but the producer's ingestion time,
# so a record replayed twice is one event (the earliest ingested_at is kept).
EVENT_KEY = [f for f in CONTRACT_FIELDS if f != "ingested_at"]
CURATED_SCHEMA = StructType(
    [
        StructField("event_time", TimestampType()),
        StructField("event_type", StringType()),
        StructField("product_id", LongType()),
        StructField("category_id", LongType()),
        StructField("category_code", StringType()),
        StructField("brand", StringType()),
        StructField("price", DecimalType(12, 2)),
        StructField("user_id", LongType()),
        StructField("user_session", StringType()),  # null: an event without a session
        StructField("ingested_at", TimestampType()),
        StructField("event_hour", IntegerType()),
        StructField("event_weekday", IntegerType()),
        StructField("top_category", StringType()),
        StructField("event_date", StringType()),  # the partition column, last
    ]
)
STORED_SCHEMA = StructType([f for f in CURATED_SCHEMA.fields if f.name in CONTRACT_FIELDS])
MAX_RECORDS_PER_FILE = 5_000_000
# A day holding this many files is rewritten whole (compacted) by the next run that touches it
# instead of getting one more file: with hourly runs, about twice a day for today's date.
MAX_DAY_FILES = 12
_INT64_MAX = 2**63 - 1
CORRUPT = "_corrupt_record"
# Longer text is refused, as `ecomm replay` refuses it (Python's csv field limit).
FIELD_LIMIT = 131_072

# The shapes of the timestamps the contract accepts: ISO-8601 UTC with a Z and up to six
# decimals, and the REES46 CSV form. A shape check and Spark's own timestamp cast are strict
# and about ten times cheaper than a pattern parse (to_timestamp). The check is a regular
# expression, not translate(digits to D) compared with shapes: translate builds a string per
# character, and ran three times per CSV row (measured: twice the cost of the expression).
# `\z`, not `$`: Java's `$` also matches before a final line break.
_ISO_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z\z"
_CSV_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} UTC\z"
# Each source (read_raw, read_csv) types event_time itself, by the shapes it accepts, into this
# column beside the contract's text fields; conform checks and keeps it.
EVENT_TIME_AT = "event_time_at"
_INTEGRAL = r"^[0-9]+(\.0+)?$"  # 5802432 or 5802432.0: the same integer
_SCIENTIFIC = r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$"
# A JSON float reaches the job as Java's Double.toString: 5.4131214E8 for 541312140.0.
_PRICE = r"^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
_DOUBLE_EXACT_MAX = 2**53  # integers up to here survive a trip through a double

# Layout of the curated root.
RUNS_DIR = "runs"
PARTITIONS_RECORD = "_partitions.json"  # the local stand-in for the catalog's partitions
LEDGER_KEY = "_state/ledger.json.gz"
# The S3 tag the curated bucket's lifecycle rule expires (terraform/modules/lake).
RETIRED_TAG = {"Key": "ecomm-lifecycle", "Value": "superseded"}
# Locally, where no lifecycle runs, a retired prefix is deleted this long after it was retired.
LOCAL_RETIRED_TTL = timedelta(hours=1)
# A run prefix that is neither current nor retired (left by a run that died) is retired once
# it is older than any run can last (Glue's longest job timeout is 48 hours).
ORPHAN_AGE = timedelta(hours=48)
_RUN_ID = re.compile(r"^(\d{8}T\d{6}Z)-[0-9a-f]{8}$")


@dataclass(frozen=True)
class CurationCounts:
    """What one run did.

    `duplicates`: valid rows read that repeat another row read in the same run; `new_events`:
    events not curated before (0 on a rerun); `curated_rows`: rows now held by `event_dates`,
    the days this run touched (an appended day's carried rows included); `raw_objects`: raw
    objects read (not curated before, unless `--full` or `--ingest_from` asked for them).
    """

    read: int
    valid: int
    rejected: int
    duplicates: int
    warnings: int
    new_events: int
    curated_rows: int
    event_dates: list[str]
    raw_objects: int = 0
    run_id: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


# Session ------------------------------------------------------------------------------------
def configure(spark: SparkSession) -> None:
    """Session settings the job depends on, set on Glue and locally alike: correctness first,
    then the one setting its speed depends on."""
    conf = spark.conf
    conf.set("spark.sql.session.timeZone", "UTC")  # event_date and event_hour are UTC
    conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")  # keep "00"
    conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")  # not legacy INT96
    conf.set("spark.sql.ansi.enabled", "false")  # failed casts become NULL and are then rejected
    # The contract fuses into one generated method of 11,000-15,000 bytes of bytecode (Spark
    # logs its size at INFO; it grows with the rules). HotSpot never JIT-compiles a method over
    # 8,000 (DontCompileHugeMethods), so it ran interpreted: measured on 500 k CSV rows, 9.0 s
    # against 3.9 s with this limit. At the limit Spark compiles that stage operator by
    # operator instead (small methods, compiled), and keeps whole-stage code generation for
    # every stage that fits (Spark's docs suggest 8000 on HotSpot; the default, 65535, is only
    # the JVM's hard limit).
    conf.set("spark.sql.codegen.hugeMethodLimit", "8000")


def local_session(app_name: str = "curate_events", shuffle_partitions: int = 4) -> SparkSession:
    """A small local SparkSession (local[2], no UI) for `ecomm etl run --local` and tests."""
    # Read by the JVM at start: bind to loopback rather than the machine's network address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        # Local Spark talks to itself on loopback only, never on the machine's network address.
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.showConsoleProgress", "false")
        # 1 GB runs out of heap sorting the days of a 10-million-row file; the JVM only takes
        # what it uses, and ECOMM_SPARK_DRIVER_MEMORY sets it for larger months.
        .config("spark.driver.memory", os.environ.get("ECOMM_SPARK_DRIVER_MEMORY", "4g"))
        .getOrCreate()
    )
    # A failed task is reported once, by the exception the job raises (one line from the CLI),
    # not also as an executor's Java stack trace on the terminal.
    spark.sparkContext.setLogLevel("FATAL")
    configure(spark)
    return spark


# Where the job keeps things: a local folder or an S3 prefix ----------------------------------
class Zone(Protocol):
    """A root (local folder or `s3://bucket/prefix`) holding objects under relative keys."""

    def uri(self, key: str = "") -> str: ...
    def list(self, prefix: str = "") -> list[str]: ...
    def read(self, key: str) -> bytes | None: ...
    def write(self, key: str, data: bytes) -> None: ...
    def copy(self, source: str, target: str) -> None: ...
    def retire(self, keys: Iterable[str]) -> None: ...
    def expire(self, location: str) -> None: ...


def _visible(key: str) -> bool:
    """Data objects only: not Spark's `_SUCCESS`, checksums (`.crc`) or hidden files."""
    return not any(part.startswith((".", "_")) for part in key.split("/"))


class LocalZone:
    """A folder of the local lake (it mirrors the bucket's key layout)."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def uri(self, key: str = "") -> str:
        return str(self.root / key) if key else str(self.root)

    def list(self, prefix: str = "") -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
        return sorted(keys)

    def read(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def write(self, key: str, data: bytes) -> None:
        """Write a whole file and rename it into place: a reader sees the old or the new."""
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def copy(self, source: str, target: str) -> None:
        """A hard link where the file system has them (no bytes move), else a copy."""
        path = self.root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.root / source, path)
        except OSError:
            shutil.copyfile(self.root / source, path)

    def retire(self, keys: Iterable[str]) -> None:
        """Nothing to tag locally: `expire` deletes what the ledger lists as retired."""

    def expire(self, location: str) -> None:
        shutil.rmtree(self.root / location, ignore_errors=True)


class S3Zone:
    """An S3 prefix, through boto3 (the Glue job's role: see terraform/modules/catalog)."""

    def __init__(self, uri: str, s3: Any, retired_tag: dict[str, str] | None = None) -> None:
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        self.bucket, self.prefix, self.s3 = bucket, prefix.rstrip("/"), s3
        self.retired_tag = retired_tag or RETIRED_TAG

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str = "") -> str:
        return (
            f"s3://{self.bucket}/{self._key(key)}" if key else f"s3://{self.bucket}/{self.prefix}"
        )

    def list(self, prefix: str = "") -> list[str]:
        start = self._key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        strip = len(self.prefix) + 1 if self.prefix else 0
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start)
        keys = [o["Key"][strip:] for page in pages for o in page.get("Contents", [])]
        # EMRFS folder markers (`x_$folder$`) and zero-byte "folders" are not objects of ours.
        return sorted(k for k in keys if k and not k.endswith(("/", "_$folder$")))

    def read(self, key: str) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            return None

    def write(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)  # atomic on S3

    def copy(self, source: str, target: str) -> None:
        """A server-side copy (one CopyObject takes up to 5 GB; a day's file holds at most
        MAX_RECORDS_PER_FILE rows, a few hundred MB). Tags are not copied (REPLACE with none):
        a copy starts current, and no tagging permission is needed."""
        self.s3.copy_object(
            Bucket=self.bucket,
            Key=self._key(target),
            CopySource={"Bucket": self.bucket, "Key": self._key(source)},
            TaggingDirective="REPLACE",
        )

    def retire(self, keys: Iterable[str]) -> None:
        """Tag each object; the bucket's lifecycle rule expires objects with this tag."""
        for key in keys:
            self.s3.put_object_tagging(
                Bucket=self.bucket, Key=self._key(key), Tagging={"TagSet": [self.retired_tag]}
            )

    def expire(self, location: str) -> None:
        """The lifecycle rule deletes retired objects on S3: nothing to do here."""


def open_zone(uri: str, s3: Any = None, retired_tag: dict[str, str] | None = None) -> Zone:
    """The zone at `uri`: S3 for `s3://` (needs a boto3 S3 client), else a local folder."""
    if uri.startswith(("s3://", "s3a://")):
        if s3 is None:
            raise ValueError(f"{uri}: an S3 location needs an S3 client")
        return S3Zone(uri.replace("s3a://", "s3://", 1), s3, retired_tag)
    return LocalZone(uri.removeprefix("file://"))


def spark_path(uri: str) -> str:
    """A zone URI as Spark reads it (Glue's EMRFS reads `s3://`)."""
    return uri


# The record of each day's current location ------------------------------------------------
class PartitionRecord(Protocol):
    """Where each `event_date` of the curated table currently lives (relative to the root)."""

    def current(self) -> dict[str, str]: ...
    def switch(self, locations: dict[str, str]) -> None: ...


class LocalPartitions:
    """The local stand-in for the catalog: `<curated>/_partitions.json`, replaced whole.

    The DuckDB engine (ecomm_cli/kpi/local_engine.py) reads the same file: a reader opens the
    record before or after the rename, never half of it.
    """

    def __init__(self, zone: Zone) -> None:
        self.zone = zone

    def current(self) -> dict[str, str]:
        data = self.zone.read(PARTITIONS_RECORD)
        if data is None:
            return {}
        record = json.loads(data)
        return {day: str(p["location"]) for day, p in record["partitions"].items()}

    def switch(self, locations: dict[str, str]) -> None:
        merged = {**self.current(), **locations}
        record = {
            "table": "events",
            "partition_key": "event_date",
            "partitions": {day: {"location": merged[day]} for day in sorted(merged)},
        }
        self.zone.write(PARTITIONS_RECORD, (json.dumps(record, indent=1) + "\n").encode())


class GluePartitions:
    """The `events` table's partitions in the Glue Data Catalog (AWS).

    Calls glue:GetTable (the table's storage descriptor, copied into new partitions),
    glue:GetPartitions, glue:BatchCreatePartition and glue:BatchUpdatePartition: the grants of
    the job's role in terraform/modules/catalog. Each partition's location changes in one
    update; Athena plans a query on the locations it reads when the query starts.
    """

    BATCH = 100  # the most partitions one BatchCreate/BatchUpdatePartition call takes

    def __init__(self, glue: Any, database: str, table: str, root_uri: str) -> None:
        self.glue, self.database, self.table = glue, database, table
        self.root = root_uri.rstrip("/") + "/"

    def _relative(self, location: str) -> str:
        return location.removeprefix(self.root).rstrip("/")

    def current(self) -> dict[str, str]:
        pages = self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=self.database, TableName=self.table
        )
        return {
            p["Values"][0]: self._relative(p["StorageDescriptor"]["Location"])
            for page in pages
            for p in page["Partitions"]
        }

    def switch(self, locations: dict[str, str]) -> None:
        table = self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
        existing = self.current()

        def partition(day: str) -> dict[str, Any]:
            descriptor = {**table["StorageDescriptor"], "Location": self.root + locations[day]}
            return {"Values": [day], "StorageDescriptor": descriptor}

        created = [d for d in sorted(locations) if d not in existing]
        updated = [d for d in sorted(locations) if d in existing]
        for i in range(0, len(created), self.BATCH):
            answer = self.glue.batch_create_partition(
                DatabaseName=self.database,
                TableName=self.table,
                PartitionInputList=[partition(d) for d in created[i : i + self.BATCH]],
            )
            _raise_on_errors("BatchCreatePartition", answer.get("Errors", []))
        for i in range(0, len(updated), self.BATCH):
            answer = self.glue.batch_update_partition(
                DatabaseName=self.database,
                TableName=self.table,
                Entries=[
                    {"PartitionValueList": [d], "PartitionInput": partition(d)}
                    for d in updated[i : i + self.BATCH]
                ],
            )
            _raise_on_errors("BatchUpdatePartition", answer.get("Errors", []))


def _raise_on_errors(call: str, errors: list[dict[str, Any]]) -> None:
    if errors:
        first = errors[0]
        detail = first.get("ErrorDetail", {})
        raise RuntimeError(
            f"{call} failed for {len(errors)} partition(s), first {first.get('PartitionValues')}: "
            f"{detail.get('ErrorCode')} {detail.get('ErrorMessage')}"
        )


# The ledger: which raw objects are curated, which prefixes are retired -----------------------
@dataclass
class Ledger:
    """`processed`: raw keys (relative to the raw root) curated by a successful run;
    `retired`: curated prefixes no longer current, with the time they were retired."""

    processed: set[str] = field(default_factory=set)
    retired: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, zone: Zone) -> Ledger:
        data = zone.read(LEDGER_KEY)
        if data is None:
            return cls()
        state = json.loads(gzip.decompress(data))
        return cls(set(state["processed"]), dict(state["retired"]))

    def save(self, zone: Zone) -> None:
        state = {"processed": sorted(self.processed), "retired": dict(sorted(self.retired.items()))}
        zone.write(LEDGER_KEY, gzip.compress(json.dumps(state).encode(), mtime=0))


def new_run_id(now: datetime | None = None) -> str:
    """`<UTC start>-<8 hex>`: unique, and its age tells an abandoned prefix from a live one."""
    moment = now or datetime.now(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def run_location(run_id: str, day: str) -> str:
    """Where run `run_id` writes `day`, relative to the curated root."""
    return f"{RUNS_DIR}/{run_id}/event_date={day}"


def _run_started(location: str) -> datetime | None:
    parts = location.split("/")
    match = _RUN_ID.match(parts[1]) if len(parts) > 2 and parts[0] == RUNS_DIR else None
    return (
        datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if match else None
    )


def _locations(keys: Iterable[str]) -> dict[str, list[str]]:
    """Data files by the day folder that holds them (`runs/<run>/event_date=D` or legacy
    `event_date=D`)."""
    found: dict[str, list[str]] = {}
    for key in keys:
        folder, _, name = key.rpartition("/")
        if _visible(key) and name.endswith(".parquet") and "event_date=" in folder:
            found.setdefault(folder, []).append(key)
    return found


def select_raw(
    listed: Sequence[str], processed: set[str], *, full: bool, ingest_from: str | None
) -> list[str]:
    """The raw objects this run reads: the ones no successful run curated, every one with
    `full`, or (a backfill) every one from `ingest_from` on."""
    objects = [k for k in listed if _visible(k)]
    if full:
        return objects
    if ingest_from:
        return [k for k in objects if _ingest_date(k) >= ingest_from]
    return [k for k in objects if k not in processed]


def _ingest_date(key: str) -> str:
    match = re.search(r"(?:^|/)ingest_date=([^/]+)/", key)
    return match.group(1) if match else ""


# Sources: every row becomes the contract's fields as text, plus where it came from ------------
# What a folder name may not hold: each such character becomes "_".
_UNSAFE_NAME = r"[^\w.-]"


def _source_name(path: Column) -> Column:
    """A file's name, safe as a folder name: the quarantine keeps each object's rejects apart."""
    return F.regexp_replace(F.regexp_extract(path, r"([^/]+)$", 1), _UNSAFE_NAME, "_")


def _safe_name(name: str) -> str:
    """`_source_name` for a name known here (Java's \\w is ASCII, hence re.ASCII)."""
    return re.sub(_UNSAFE_NAME, "_", name, flags=re.ASCII)


def read_raw(spark: SparkSession, files: list[str]) -> DataFrame:
    """Raw JSON lines (GZIP) of the given objects, each field as text, the line as `record`,
    and `event_time_at` typed from ISO-8601 with a Z (the only form the contract accepts)."""
    lines = spark.read.text(files).select("value", F.col("_metadata.file_path").alias("path"))
    ingest = F.regexp_extract("path", r"ingest_date=([^/]+)/", 1)
    hour = F.regexp_extract("path", r"hour=([^/]+)/", 1)
    schema = StructType(
        [StructField(f, StringType()) for f in CONTRACT_FIELDS]
        + [StructField(CORRUPT, StringType())]
    )
    parsed = lines.where(F.trim("value") != "").select(
        F.from_json(
            "value", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
        ).alias("e"),
        F.col("value").alias("record"),
        F.concat(F.lit("raw-"), F.when(ingest != "", ingest).otherwise("unknown")).alias("batch"),
        F.concat_ws(
            "-", F.when(hour != "", F.concat(F.lit("hour"), hour)), _source_name(F.col("path"))
        ).alias("object"),
    )
    # A line that is not a JSON object parses to a null struct or fills the corrupt column.
    malformed = F.col("e").isNull() | F.col(f"e.{CORRUPT}").isNotNull()
    return parsed.select(
        *[F.col(f"e.{f}").alias(f) for f in CONTRACT_FIELDS],
        _utc_timestamp(F.col("e.event_time")).alias(EVENT_TIME_AT),
        F.col("record"),
        F.col("batch"),
        F.col("object"),
        F.when(malformed, F.lit("malformed JSON line")).alias("source_error"),
    )


def csv_header(spark: SparkSession, csv_path: str) -> list[str]:
    """The column names of a CSV file's first line (a UTF-8 BOM and quotes removed)."""
    import csv

    first = spark.read.text(csv_path).limit(1).collect()
    if not first:
        raise ValueError(f"{csv_path} is empty: a REES46 CSV file starts with its header line")
    names = next(csv.reader([first[0]["value"]]))
    return [n.strip().lstrip("\ufeff").strip('"').strip() for n in names]


def read_csv(spark: SparkSession, csv_path: str) -> DataFrame:
    """REES46 CSV rows as contract fields, with `event_time_at` typed from the REES46 form
    ('2019-10-01 00:00:00 UTC') or the contract's ISO-8601 with a Z."""
    header = csv_header(spark, csv_path)
    missing = [f for f in EVENT_KEY if f not in header]
    if missing:
        raise ValueError(f"{csv_path}: CSV lacks the columns {', '.join(missing)}")
    # The header as an explicit all-text schema (no inference pass) plus a corrupt-record
    # column, so a row with too few or too many fields (a truncated last line) is flagged.
    names = [c if c not in (CORRUPT, "") else f"_column{i}" for i, c in enumerate(header)]
    schema = StructType(
        [StructField(c, StringType()) for c in names] + [StructField(CORRUPT, StringType())]
    )
    rows = (
        spark.read.option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .option("enforceSchema", True)  # the schema is the header's, by position
        .schema(schema)
        .csv(csv_path)
    )
    fields = {f: F.col(f) if f in names else F.lit(None).cast("string") for f in CONTRACT_FIELDS}
    when = fields["event_time"]
    # Empty CSV cells mean null in the contract (an empty event_time has no CSV shape).
    fields = {f: F.when(c != "", c) for f, c in fields.items()}
    # The REES46 form is typed here, once: its first 19 characters are Spark's own timestamp
    # text (the session is UTC). Rewritten as ISO text for the contract's check instead, it
    # cost a concat and a second regular expression per row. A CSV may hold ISO times too.
    at = F.when(when.rlike(_CSV_TIME), F.substring(when, 1, 19).cast("timestamp")).otherwise(
        _utc_timestamp(fields["event_time"])
    )
    # One file: its names are constants. Reading them from `_metadata` per row made Spark carry
    # every metadata column of the scan through each row even where the valid rows never use
    # them (measured: a third of the cost of parsing the CSV).
    name = csv_path.rstrip("/").rpartition("/")[2]
    stem = re.fullmatch(r"(.+?)(\.csv)?(\.gz)?", name)
    return rows.select(
        *[c.alias(f) for f, c in fields.items()],
        at.alias(EVENT_TIME_AT),
        # Kept for rejected rows only (conform drops it for valid ones): building it per row
        # would be the most expensive column of a backfill.
        F.to_json(F.struct(*[F.col(c) for c in names])).alias("record"),
        F.lit(f"csv-{_safe_name(stem.group(1) if stem else '')}").alias("batch"),
        F.lit(_safe_name(name)).alias("object"),
        F.when(F.col(CORRUPT).isNotNull(), F.lit("malformed CSV row")).alias("source_error"),
    )


# The contract ---------------------------------------------------------------------------------
def _stripped(text: Column) -> Column:
    """Text without surrounding whitespace, NULL when nothing is left (as ecomm's replay does)."""
    # Trimmed only when an end is whitespace: btrim with a character set allocates a string per
    # character it looks at and copies the text, while startswith/endswith compare bytes in
    # place, and almost no field needs trimming.
    blanks = " \t\r\n"
    edge = functools.reduce(operator.or_, [text.startswith(b) | text.endswith(b) for b in blanks])
    trimmed = F.when(edge, F.call_function("btrim", text, F.lit(blanks))).otherwise(text)
    return F.when(trimmed != "", trimmed)


def _plain_integer(text: Column) -> Column:
    """The BIGINT of plain non-negative digits ('5802432'), else NULL: the common case, checked
    by a cast and its round trip instead of a regular expression."""
    value = text.cast("bigint")
    return F.when((value >= 0) & (value.cast("string") == text), value)


def _bigint(text: Column) -> Column:
    """Integral text ('5802432' or '5802432.0') as BIGINT; NULL beyond 64 bits."""
    digits = F.substring_index(text, ".", 1).cast("decimal(38,0)")
    # Checked, not cast blindly: Spark's decimal-to-long cast wraps around on overflow.
    return F.when(digits <= F.lit(_INT64_MAX).cast("decimal(38,0)"), digits.cast("bigint"))


def _id(text: Column) -> Column:
    """product_id / user_id: integral text, or a JSON float that still holds an exact integer."""
    as_float = text.cast("decimal(38,6)")
    exact_float = (
        text.rlike(_SCIENTIFIC)
        & (as_float == F.floor(as_float))
        & (as_float <= F.lit(_DOUBLE_EXACT_MAX))
    )
    plain = _plain_integer(text)
    return (
        F.when(plain.isNotNull(), plain)
        .when(text.rlike(_INTEGRAL), _bigint(text))
        .when(exact_float, as_float.cast("bigint"))
    )


def _utc_timestamp(text: Column) -> Column:
    """ISO-8601 UTC with a Z as TIMESTAMP; NULL for any other shape or an impossible date."""
    return F.when(text.rlike(_ISO_TIME), F.substring_index(text, "Z", 1).cast("timestamp"))


def _text_problem(column: str) -> Column:
    """Why a text field cannot be stored as it is, or NULL: too long, not UTF-8, a NUL byte."""
    text = F.col(column)
    # Bytes first: a text of at most FIELD_LIMIT bytes has at most that many characters, and
    # its byte length is known without counting. `contains` scans bytes for the first byte of
    # what it seeks; `instr` compares whole arrays at every character, and counts them.
    too_long = (F.octet_length(text) > FIELD_LIMIT) & (F.length(text) > FIELD_LIMIT)
    return (
        F.when(too_long, F.lit(f"{column}: longer than {FIELD_LIMIT} characters"))
        # Spark decodes a byte that is not UTF-8 as U+FFFD; the contract refuses such text.
        .when(text.contains("\ufffd"), F.lit(f"{column}: not UTF-8"))
        .when(text.contains("\x00"), F.lit(f"{column}: holds a NUL byte"))
    )


def conform(rows: DataFrame) -> DataFrame:
    """Type the contract fields; `reason` lists every broken rule (NULL when the row is valid).

    `rows` are a source's: the contract fields as text, `event_time_at` (the source's typing of
    `event_time`, NULL when its shape is not accepted), `record`, `batch`, `object` and
    `source_error`.

    `category_id` in scientific notation (a float that already lost its digits) is nulled and
    flagged in `warning`, the row kept. An empty or blank `user_session` is NULL: the event has
    no session, and is kept (its visitor is real).
    """
    c = F.col
    # Stage 1: parse every field once. Stage 2 only compares what stage 1 produced, so no
    # regular expression or cast runs twice for one field.
    category_plain = _plain_integer(c("category_id"))
    typed = rows.select(
        c("event_time").alias("event_time_text"),
        c(EVENT_TIME_AT).alias("event_time"),
        c("event_type"),
        c("product_id").alias("product_id_text"),
        _id(c("product_id")).alias("product_id"),
        c("category_id").alias("category_id_text"),
        category_plain.alias("category_id_plain"),
        (category_plain.isNotNull() | c("category_id").rlike(_INTEGRAL)).alias(
            "category_id_integral"
        ),
        _stripped(c("category_code")).alias("category_code"),
        _stripped(c("brand")).alias("brand"),
        c("price").alias("price_text"),
        c("price").rlike(_PRICE).alias("price_numeric"),
        # 12 integer digits (more than DECIMAL(12,2)'s 10, so an out-of-range price is still
        # told apart) and 6 decimals fit 18 digits: Spark then computes on a long, not a
        # BigDecimal. Beyond it the cast is NULL, and the price is out of range either way.
        c("price").cast("decimal(18,6)").alias("price_wide"),
        c("user_id").alias("user_id_text"),
        _id(c("user_id")).alias("user_id"),
        _stripped(c("user_session")).alias("user_session"),
        c("ingested_at").alias("ingested_at_text"),
        _utc_timestamp(c("ingested_at")).alias("ingested_at"),
        F.coalesce(*[_text_problem(f) for f in ("category_code", "brand", "user_session")]).alias(
            "text_problem"
        ),
        c("record"),
        c("batch"),
        c("object"),
        c("source_error"),
    )
    integral = c("category_id_integral")
    typed = typed.withColumns(
        {
            "category_id": F.when(c("category_id_plain").isNotNull(), c("category_id_plain")).when(
                integral, _bigint(c("category_id_text"))
            ),
            "warning": F.coalesce(
                ~integral & c("category_id_text").rlike(_SCIENTIFIC), F.lit(False)
            ),
        }
    )
    price = c("price_wide").cast("decimal(12,2)")
    # Each rule is (broken when, reason). The same conditions decide whether a row passes and
    # build its list of reasons, so a rule cannot be added to one and missed by the other.
    rules: list[tuple[Column, Column | str]] = [
        (c("event_time_text").isNull(), "event_time: missing"),
        (
            c("event_time_text").isNotNull() & c("event_time").isNull(),
            "event_time: not ISO-8601 UTC with a Z",
        ),
        (c("event_type").isNull(), "event_type: missing"),
        (
            c("event_type").isNotNull() & ~c("event_type").isin(*EVENT_TYPES),
            "event_type: not one of " + "/".join(EVENT_TYPES),
        ),
    ]
    for name in ("product_id", "user_id"):
        text, value = c(f"{name}_text"), c(name)
        rules += [
            (text.isNull(), f"{name}: missing"),
            (
                text.isNotNull() & value.isNull() & ~text.rlike(_INTEGRAL),
                f"{name}: not an integer",
            ),
            (value.isNull() & text.rlike(_INTEGRAL), f"{name}: out of range"),
        ]
    rules += [
        (
            c("category_id_text").isNotNull() & ~integral & ~c("warning"),
            "category_id: not an integer",
        ),
        (integral & c("category_id").isNull(), "category_id: out of range"),
        (c("price_text").isNull(), "price: missing"),
        (~c("price_numeric"), "price: not a non-negative number"),
        # 1e30 is a number, but no DECIMAL(12,2) holds it.
        (c("price_numeric") & (c("price_wide").isNull() | price.isNull()), "price: out of range"),
        (
            c("price_numeric") & (c("price_wide") != F.round(c("price_wide"), 2)),
            "price: more than two decimals",
        ),
        (c("text_problem").isNotNull(), c("text_problem")),
        (
            c("ingested_at_text").isNotNull() & c("ingested_at").isNull(),
            "ingested_at: not ISO-8601 UTC with a Z",
        ),
    ]
    # A condition is NULL where its inputs are (`price_numeric` of a missing price): broken
    # means TRUE. A valid row, most of them, is told by these comparisons alone; only the
    # others build the list of reasons, the most costly column.
    broken = F.coalesce(
        functools.reduce(operator.or_, [c("source_error").isNotNull(), *[r for r, _ in rules]]),
        F.lit(False),
    )
    reasons = [F.when(r, why if isinstance(why, Column) else F.lit(why)) for r, why in rules]
    # A line that did not even parse gets that one reason, not a missing-field litany.
    reason = F.when(broken, F.coalesce(c("source_error"), F.concat_ws("; ", *reasons)))
    return typed.select(
        *[c(f) for f in CONTRACT_FIELDS if f != "price"],
        price.alias("price"),
        reason.alias("reason"),
        c("warning"),
        # The original line or row, for the quarantine; NULL for the valid rows, which are most.
        F.when(reason.isNotNull(), c("record")).alias("record"),
        c("batch"),
        c("object"),
    ).select(*CONTRACT_FIELDS, "reason", "warning", "record", "batch", "object")


def with_derived_columns(
    events: DataFrame, extra: Sequence[str] = (), event_date: Column | None = None
) -> DataFrame:
    """event_hour (UTC), ISO weekday (Monday=1), top_category and event_date, in schema order."""
    # The text before the first dot (all of it without one): split would build an array.
    first_segment = F.substring_index(F.col("category_code"), ".", 1)
    if event_date is None:
        event_date = F.date_format("event_time", "yyyy-MM-dd")
    return events.select(
        *[F.col(f) for f in CONTRACT_FIELDS],
        *[F.col(f) for f in extra],
        F.hour("event_time").alias("event_hour"),
        (F.expr("weekday(event_time)") + 1).cast("int").alias("event_weekday"),
        F.when(first_segment != "", first_segment).alias("top_category"),
        event_date.alias("event_date"),
    )


# The job ------------------------------------------------------------------------------------
@dataclass
class Lake:
    """The three zones and the partition record a run works on."""

    raw: Zone
    curated: Zone
    quarantine_path: str
    partitions: PartitionRecord


def open_lake(
    raw_path: str,
    curated_path: str,
    quarantine_path: str,
    *,
    catalog: tuple[str, str] | None = None,
    s3: Any = None,
    glue: Any = None,
    retired_tag: dict[str, str] | None = None,
) -> Lake:
    """The zones at those paths; the Glue catalog's partitions when `catalog` (database,
    table) is given, else the local record."""
    curated = open_zone(curated_path, s3, retired_tag)
    record: PartitionRecord
    if catalog is not None:
        if glue is None:
            raise ValueError("switching catalog partitions needs a Glue client")
        record = GluePartitions(glue, catalog[0], catalog[1], curated.uri())
    else:
        record = LocalPartitions(curated)
    return Lake(open_zone(raw_path, s3), curated, quarantine_path, record)


def curate(
    spark: SparkSession,
    raw_path: str,
    curated_path: str,
    quarantine_path: str,
    csv_path: str | None = None,
    ingest_from: str | None = None,
    print_counts: bool = True,
    *,
    full: bool = False,
    catalog: tuple[str, str] | None = None,
    s3: Any = None,
    glue: Any = None,
    profile: dict[str, float] | None = None,
    retired_tag: str | None = None,
) -> CurationCounts:
    """Run the job once and return its counts (printed too, for the Glue job's log).

    Idempotent: a second run finds no new raw object and changes nothing; a rerun after a run
    that died reads what that run read and converges to the same curated days. `profile`, when
    given, receives the seconds of each phase.
    """
    configure(spark)
    if ingest_from and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", ingest_from):
        raise ValueError(f"--ingest_from must be YYYY-MM-DD, got {ingest_from!r}")
    clock = _Clock(profile)
    lake = open_lake(
        raw_path,
        curated_path,
        quarantine_path,
        catalog=catalog,
        s3=s3,
        glue=glue,
        retired_tag=parse_tag(retired_tag) if retired_tag else None,
    )
    run_id = new_run_id()
    ledger = Ledger.load(lake.curated)
    listed = lake.raw.list()
    selected = select_raw(listed, ledger.processed, full=full, ingest_from=ingest_from)
    current = lake.partitions.current()
    curated_keys = lake.curated.list()
    if not current:  # a lake written before the partition record: its days are current
        current = {folder.rsplit("=", 1)[1]: folder for folder in _locations(curated_keys)
                   if folder.startswith("event_date=")}  # fmt: skip
        if current:
            lake.partitions.switch(current)
    clock.lap("list")

    sources = [read_raw(spark, [lake.raw.uri(k) for k in selected])] if selected else []
    if csv_path:
        sources.append(read_csv(spark, csv_path))
    counts = CurationCounts(0, 0, 0, 0, 0, 0, 0, [], 0, run_id)
    if sources:
        rows = sources[0]
        for extra in sources[1:]:
            rows = rows.unionByName(extra)
        counts = _curate_rows(
            spark,
            lake,
            conform(rows),
            current,
            _locations(curated_keys),
            run_id,
            clock,
            full=full,
        )
        counts = CurationCounts(**{**asdict(counts), "raw_objects": len(selected)})
        current = lake.partitions.current()

    # Success: the objects read are curated; prefixes no longer current are retired.
    visible = {k for k in listed if _visible(k)}
    ledger.processed = (ledger.processed & visible) | set(selected)
    _retire(lake, ledger, current, curated_keys)
    ledger.save(lake.curated)
    clock.lap("ledger")
    if print_counts:
        if not sources:
            print(f"curate_events: nothing new to read under {raw_path}")
        print(f"curate_events counts: {counts.to_json()}")
    return counts


def _curate_rows(
    spark: SparkSession,
    lake: Lake,
    conformed: DataFrame,
    current: dict[str, str],
    held_files: dict[str, list[str]],
    run_id: str,
    clock: _Clock,
    *,
    full: bool,
) -> CurationCounts:
    """Write the touched days under the run's prefix, write the quarantine, switch the days.

    A touched day the lake does not hold yet is written whole. A day it holds is appended to:
    its new events (the rows read, deduplicated against every event the day holds) become one
    more file, and the day's current files are carried into the run's folder beside it
    (a hard link locally, a server-side copy on S3), so the cost follows the new rows, not the
    day's size. A day that already holds MAX_DAY_FILES files, and every day with `full`, is
    rewritten whole instead (compacted): a day never grows into many small files.
    """
    is_valid = F.col("reason").isNull()
    totals = [
        F.count(F.lit(1)).alias("read"),
        F.count(F.when(is_valid, 1)).alias("valid"),
        F.count(F.when(~is_valid, 1)).alias("rejected"),
        F.count(F.when(is_valid & F.col("warning"), 1)).alias("warnings"),
        _day_list(F.collect_set(F.when(is_valid, F.to_date("event_time")))).alias("dates"),
    ]
    merge_with: dict[str, str] = {}
    counted: Observation | dict[str, Any]
    observed = conformed
    spans: dict[str, tuple[int, int]] = {}
    if current:
        # The days to merge with, and the time span read for each, must be known before
        # their held rows are read: one pass over the input first. Measured on 100 k rows,
        # parsing twice costs less than keeping the parsed rows (Spark's cache) for a reread.
        counted, spans = _input_pass(conformed)
        merge_with = {d: current[d] for d in spans if d in current}
        clock.lap("input pass (touched days)")
    else:
        # Nothing to merge with: the input is read once, and counted while it is written.
        counted = Observation("input")
        observed = conformed.observe(counted, *totals)
    appended = sorted(
        d
        for d, location in merge_with.items()
        if not full and len(held_files.get(location, [])) < MAX_DAY_FILES
    )

    rows = _filtered(observed, is_valid).select(
        *CONTRACT_FIELDS, F.lit(1).alias("_read"), F.lit(0).alias("_held")
    )
    whole = [d for d in merge_with if d not in appended]
    if whole:
        rows = rows.unionByName(_as_held(_held_rows(spark, lake, [merge_with[d] for d in whole])))
    if appended:
        # Only a held event inside the time span the run read for its day can equal a new one
        # (event_time is part of the key): a late hour compares with that hour only. The files
        # are sorted on event_time first, so Parquet's statistics skip the rest.
        in_span = functools.reduce(
            operator.or_,
            [
                F.col("event_time").between(
                    F.timestamp_micros(F.lit(spans[d][0])), F.timestamp_micros(F.lit(spans[d][1]))
                )
                for d in appended
            ],
        )
        held = _held_rows(spark, lake, [merge_with[d] for d in appended])
        rows = rows.unionByName(_as_held(held.where(in_span)))
    merged, written = Observation("merged"), Observation("written")
    events = _deduplicated(rows, by_day=not appended).observe(
        merged,
        F.sum(F.greatest(F.col("_read") - 1, F.lit(0))).alias("duplicates"),
        F.sum(1 - F.col("_held")).alias("new_events"),
    )
    if appended:
        # An appended day keeps the events it holds where they are: only its new ones go on.
        events = events.where(
            (F.col("_held") == 0)
            | ~F.col("event_date").isin(*[date.fromisoformat(d) for d in appended])
        )
    (
        _sorted_days(events, shuffle=bool(appended))
        .observe(
            written,
            F.count(F.lit(1)).alias("rows"),
            _day_list(F.collect_set("event_date")).alias("dates"),
        )
        .write.mode("errorifexists")
        .option("maxRecordsPerFile", MAX_RECORDS_PER_FILE)
        .option("compression", "snappy")
        .partitionBy("event_date")
        .parquet(spark_path(lake.curated.uri(f"{RUNS_DIR}/{run_id}")))
    )
    totals_row = counted.get if isinstance(counted, Observation) else counted
    stats = {k: int(v or 0) for k, v in merged.get.items()}
    dates = [d for d in str(totals_row["dates"] or "").split(",") if d]
    # A touched day whose rows were all held already gets no new file and keeps its location.
    changed = [d for d in str(written.get["dates"] or "").split(",") if d]
    # The appended days hold their carried rows too (counted from the Parquet footers).
    carried = _held_rows(spark, lake, [merge_with[d] for d in appended]).count() if appended else 0
    clock.lap("merge, sort and write the touched days")

    if int(totals_row["rejected"]):
        _write_quarantine(_filtered(conformed, ~is_valid), lake.quarantine_path)
        clock.lap("quarantine")
    locations = {d: run_location(run_id, d) for d in changed}
    for d in appended:
        if d in locations:
            for key in held_files.get(merge_with[d], []):
                lake.curated.copy(key, f"{locations[d]}/{key.rpartition('/')[2]}")
    if appended:
        clock.lap("carry the appended days' files")
    # Every day is complete under the run's prefix: switch them (one step per day).
    folders = _locations(lake.curated.list(f"{RUNS_DIR}/{run_id}/"))
    missing = sorted(location for location in locations.values() if location not in folders)
    if missing:
        raise RuntimeError(f"curate_events: the run wrote no file for {', '.join(missing)}")
    if locations:
        lake.partitions.switch(locations)
    clock.lap("switch")
    return CurationCounts(
        read=int(totals_row["read"]),
        valid=int(totals_row["valid"]),
        rejected=int(totals_row["rejected"]),
        duplicates=stats["duplicates"],
        warnings=int(totals_row["warnings"]),
        new_events=stats["new_events"],
        curated_rows=int(written.get["rows"] or 0) + carried,
        event_dates=dates,
        run_id=run_id,
    )


def _held_rows(spark: SparkSession, lake: Lake, locations: list[str]) -> DataFrame:
    """The curated rows of the given day folders, as stored."""
    return spark.read.schema(STORED_SCHEMA).parquet(
        *[spark_path(lake.curated.uri(location)) for location in locations]
    )


def _as_held(held: DataFrame) -> DataFrame:
    """Held rows in the shape of the rows read: not read by this run (`_read` 0), held (1)."""
    return held.select(*CONTRACT_FIELDS, F.lit(0).alias("_read"), F.lit(1).alias("_held"))


def _filtered(rows: DataFrame, condition: Column) -> DataFrame:
    """`rows.where(condition)`, the condition evaluated on the rows as they are.

    Left alone, the optimizer pushes a filter on `reason` below the projection that computes
    it, inlining every contract expression into the filter: each is then computed twice
    (measured: the valid rows of 500 k CSV rows in 19-20 s instead of 8-9). A column from a
    non-deterministic expression (the partition id, free) fences the filter where it stands.
    """
    fenced = rows.withColumn("_fence", F.spark_partition_id())
    return fenced.where(condition & (F.col("_fence") >= 0)).drop("_fence")


def _day_list(days: Column) -> Column:
    """A set of DATEs as sorted 'YYYY-MM-DD' text joined by commas. Text, not an array: an
    Observation hands arrays back as Java objects. Days are collected as DATEs (4 bytes, no
    formatting) and formatted once per day, not once per row."""
    return F.concat_ws(",", F.array_sort(days).cast("array<string>"))


def _input_pass(conformed: DataFrame) -> tuple[dict[str, Any], dict[str, tuple[int, int]]]:
    """The input's counts (as the Observation path has them) and, per day its valid rows
    touch, the first and last event_time read (microseconds since the epoch, UTC)."""
    is_valid = F.col("reason").isNull()
    per_day = (
        conformed.groupBy(F.when(is_valid, F.to_date("event_time")).alias("d"))
        .agg(
            F.count(F.lit(1)).alias("read"),
            F.count(F.when(is_valid & F.col("warning"), 1)).alias("warnings"),
            F.unix_micros(F.min("event_time")).alias("first"),
            F.unix_micros(F.max("event_time")).alias("last"),
        )
        .collect()
    )
    read = sum(int(r["read"]) for r in per_day)
    rejected = sum(int(r["read"]) for r in per_day if r["d"] is None)
    spans = {r["d"].isoformat(): (int(r["first"]), int(r["last"])) for r in per_day if r["d"]}
    counted = {
        "read": read,
        "valid": read - rejected,
        "rejected": rejected,
        "warnings": sum(int(r["warnings"]) for r in per_day),
        "dates": ",".join(sorted(spans)),
    }
    return counted, spans


def _deduplicated(rows: DataFrame, *, by_day: bool) -> DataFrame:
    """The exact-deduplicated events of the touched days: one row per event key.

    `_read` counts how often the event was in this run's input, `_held` is 1 when the day
    already held it. The day is a DATE here (its folder name is the same): grouping and
    sorting on a 4-byte value beats comparing strings that all start with the same year and
    month. With `by_day` the rows are distributed by day, so the write needs no second
    shuffle (the day is part of every event's key): best when every row is written. Without,
    Spark spreads the grouping over every key (all cores busy even for a single day), and
    `_sorted_days` moves only the rows that are written.
    """
    dated = rows.withColumn("event_date", F.to_date("event_time"))
    if by_day:
        dated = dated.repartition("event_date")
    return dated.groupBy("event_date", *EVENT_KEY).agg(
        F.min("ingested_at").alias("ingested_at"),
        F.sum("_read").alias("_read"),
        F.max("_held").alias("_held"),
    )


def _sorted_days(events: DataFrame, *, shuffle: bool) -> DataFrame:
    """The events with their derived columns, one partition per day, sorted for the write:
    each day becomes one task's file, in the same order on every run."""
    if shuffle:
        events = events.repartition("event_date")
    return with_derived_columns(events, event_date=F.col("event_date")).sortWithinPartitions(
        "event_date", *EVENT_KEY
    )


def _write_quarantine(rejects: DataFrame, quarantine_path: str) -> None:
    """Rejected rows with their reasons, one folder per source object: a rerun over an object
    rewrites its folder, and a run never touches another object's rejects."""
    (
        rejects.select("batch", "object", "reason", "record")
        .repartition("batch", "object")
        .sortWithinPartitions("batch", "object", "record", "reason")
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "gzip")
        .partitionBy("batch", "object")
        .json(spark_path(quarantine_path))
    )


def _retire(
    lake: Lake,
    ledger: Ledger,
    current: dict[str, str],
    curated_keys: list[str],
    now: datetime | None = None,
) -> None:
    """Retire the day folders no reader is sent to any more, and forget those that are gone.

    A folder is retired at once when its day now lives in a newer run's folder (this run, or a
    run that died after switching) or when it predates the run folders (the legacy layout); a
    folder of a run that died before switching is retired once it is older than any run can
    last. On S3 the objects are tagged for the curated bucket's lifecycle rule; locally, where
    no lifecycle runs, a retired folder is deleted LOCAL_RETIRED_TTL after it was retired.

    What is left of a run folder once its day folders are gone (Spark's `_SUCCESS` marker, the
    `_temporary` files of a killed run) is retired the same way, as one `runs/<run id>` entry,
    when no day lives there and the run is older than ORPHAN_AGE.
    """
    now = now or datetime.now(UTC)
    live = set(current.values())
    by_location = _locations(curated_keys)
    by_run: dict[str, list[str]] = {}  # every key under each run folder, hidden ones too
    for key in curated_keys:
        parts = key.split("/")
        if len(parts) > 2 and parts[0] == RUNS_DIR:
            by_run.setdefault(f"{RUNS_DIR}/{parts[1]}", []).append(key)
    for location, since in sorted(ledger.retired.items()):
        listed = by_location if "event_date=" in location else by_run
        if location in live or location not in listed:
            del ledger.retired[location]
        elif isinstance(lake.curated, LocalZone) and (
            datetime.fromisoformat(since) + LOCAL_RETIRED_TTL <= now
        ):
            lake.curated.expire(location)
            del ledger.retired[location]
            listed.pop(location)  # gone: not to be retired again below
    for location, files in sorted(by_location.items()):
        if location in live or location in ledger.retired:
            continue
        started = _run_started(location)
        day = location.rsplit("event_date=", 1)[-1]
        now_at = _run_started(current[day]) if day in current else None
        replaced = started is None or (now_at is not None and now_at > started)
        if replaced or (started is not None and started + ORPHAN_AGE <= now):
            lake.curated.retire(files)
            ledger.retired[location] = now.isoformat()
    for folder, keys in sorted(by_run.items()):
        started = _run_started(f"{folder}/")
        if (
            folder in ledger.retired
            or started is None
            or started + ORPHAN_AGE > now
            or any(location.startswith(f"{folder}/") for location in by_location)
        ):
            continue
        lake.curated.retire(keys)
        ledger.retired[folder] = now.isoformat()


class _Clock:
    """Seconds per phase, into `profile` when one is given."""

    def __init__(self, profile: dict[str, float] | None) -> None:
        self.profile, self.last = profile, time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        if self.profile is not None:
            self.profile[phase] = round(self.profile.get(phase, 0.0) + now - self.last, 3)
        self.last = now


# Heartbeat ------------------------------------------------------------------------------------
HEARTBEAT_METRIC = "CurationSucceeded"
HEARTBEAT_DATASET = "events"


def publish_heartbeat(cloudwatch: Any, namespace: str, counts: CurationCounts) -> None:
    """Tell CloudWatch a run succeeded (value 1) and how many rows the touched days hold.

    Called only after a run completed: the alarm fires when this has not happened for its
    window, whatever the age of the events themselves (a replay of old data is not staleness).
    """
    dimensions = [{"Name": "Dataset", "Value": HEARTBEAT_DATASET}]
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {"MetricName": HEARTBEAT_METRIC, "Dimensions": dimensions, "Value": 1, "Unit": "Count"},
            {
                "MetricName": "CuratedRows",
                "Dimensions": dimensions,
                "Value": counts.curated_rows,
                "Unit": "Count",
            },
        ],
    )


# Entry point ----------------------------------------------------------------------------------
REQUIRED_ARGS = ("raw_path", "curated_path", "quarantine_path")
OPTIONAL_ARGS = (
    "csv_path",
    "ingest_from",
    "full",
    "catalog_database",
    "catalog_table",
    "retired_tag",
    "metric_namespace",
)


def parse_tag(text: str) -> dict[str, str]:
    """`key=value` as an S3 tag (`{"Key": ..., "Value": ...}`)."""
    key, sep, value = text.partition("=")
    if not (sep and key and value):
        raise ValueError(f"--retired_tag must be key=value, got {text!r}")
    return {"Key": key, "Value": value}


def parse_args(argv: Sequence[str]) -> dict[str, str | None]:
    """Glue-style `--name value` arguments; unknown ones (Glue adds its own) are ignored."""
    values: dict[str, str | None] = dict.fromkeys((*REQUIRED_ARGS, *OPTIONAL_ARGS))
    args = list(argv)
    for i, arg in enumerate(args):
        name, _, inline = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        if name in values:
            if inline:
                values[name] = inline
            elif i + 1 < len(args):
                values[name] = args[i + 1]
    missing = [n for n in REQUIRED_ARGS if not values[n]]
    if missing:
        raise SystemExit("curate_events: missing " + ", ".join("--" + n for n in missing))
    if bool(values["catalog_database"]) != bool(values["catalog_table"]):
        raise SystemExit("curate_events: --catalog_database and --catalog_table go together")
    return values


def main(argv: Sequence[str] | None = None) -> CurationCounts:
    """Entry point on Glue (GlueContext, job bookkeeping) or locally (plain SparkSession)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    job: Any = None
    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
        from awsglue.utils import getResolvedOptions
    except ImportError:  # not on Glue: the same job on a local session
        spark = local_session()
    else:
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        spark = glue_context.spark_session
        if "--JOB_NAME" in argv:
            job = Job(glue_context)
            job.init(getResolvedOptions(["", *argv], ["JOB_NAME"])["JOB_NAME"], {})
    aws: dict[str, Any] = {}
    if str(args["curated_path"]).startswith("s3://") or args["catalog_database"]:
        import boto3  # on Glue; imported late so a local run needs no AWS

        aws = {"s3": boto3.client("s3"), "glue": boto3.client("glue")}
    catalog = (
        (str(args["catalog_database"]), str(args["catalog_table"]))
        if args["catalog_database"]
        else None
    )
    counts = curate(
        spark,
        raw_path=str(args["raw_path"]),
        curated_path=str(args["curated_path"]),
        quarantine_path=str(args["quarantine_path"]),
        csv_path=args["csv_path"],
        ingest_from=args["ingest_from"],
        full=str(args["full"]).lower() == "true",
        catalog=catalog,
        retired_tag=args["retired_tag"],
        **aws,
    )
    if job is not None:
        job.commit()
    if args["metric_namespace"]:
        import boto3

        publish_heartbeat(boto3.client("cloudwatch"), args["metric_namespace"], counts)
    return counts


if __name__ == "__main__":
    main()

"""Glue job: raw clickstream events to curated Parquet, rejects with a reason to quarantine.

Runs unchanged on AWS Glue 5.x (Spark 3.5, Python 3.11) and on a plain local SparkSession
(`ecomm etl run --local`): `awsglue` is imported only when it exists.

Arguments (Glue style, `--name value`):
  --raw_path         raw zone root holding `ingest_date=YYYY-MM-DD/hour=HH/*.json.gz`
  --curated_path     curated root; written as `event_date=YYYY-MM-DD/*.parquet`
  --quarantine_path  quarantine root; written as `batch=<source>/*.json.gz`
  --csv_path         optional: REES46 CSV file(s) to backfill along with the raw zone
  --ingest_from      optional YYYY-MM-DD: read only raw partitions from that ingest date on
  --metric_namespace optional: at the end of a successful run, publish the CurationSucceeded
                     heartbeat (and CuratedRows) there; the platform's alarm watches it

Incremental runs never replace a day with part of its data: every `event_date` touched by the
rows read is rebuilt as the exact-deduplicated union of the rows read and the rows already
curated for that date (a merge), and written with dynamic partition overwrite, so only those
dates are replaced. A rerun over the same input therefore changes nothing, and the output is
sorted and written as a fixed set of files per date so that its content is byte-identical.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
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
        StructField("user_session", StringType()),
        StructField("ingested_at", TimestampType()),
        StructField("event_hour", IntegerType()),
        StructField("event_weekday", IntegerType()),
        StructField("top_category", StringType()),
        StructField("event_date", StringType()),  # the partition column, last
    ]
)
# Total order of the output rows: same input, same bytes.
SORT_ORDER = [*EVENT_KEY, "ingested_at"]
MAX_RECORDS_PER_FILE = 5_000_000
_INT64_MAX = 2**63 - 1
CORRUPT = "_corrupt_record"

_ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"
_INTEGRAL = r"^[0-9]+(\.0+)?$"  # 5802432 or 5802432.0: the same integer
_SCIENTIFIC = r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$"
# A JSON float reaches the job as Java's Double.toString: 5.4131214E8 for 541312140.0.
_PRICE = r"^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"
_DOUBLE_EXACT_MAX = 2**53  # integers up to here survive a trip through a double
_CSV_TIME = r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$"


@dataclass(frozen=True)
class CurationCounts:
    """What one run did.

    `duplicates`: valid rows read that repeat another row read in the same run; `new_events`:
    events not curated before (0 on a rerun); `curated_rows`: rows now held by `event_dates`.
    """

    read: int
    valid: int
    rejected: int
    duplicates: int
    warnings: int
    new_events: int
    curated_rows: int
    event_dates: list[str]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


# Session ------------------------------------------------------------------------------------
def configure(spark: SparkSession) -> None:
    """Session settings the job's correctness depends on, set on Glue and locally alike."""
    conf = spark.conf
    conf.set("spark.sql.session.timeZone", "UTC")  # event_date and event_hour are UTC
    conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")  # replace touched dates only
    conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")  # keep "00"
    conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")  # not legacy INT96
    conf.set("spark.sql.ansi.enabled", "false")  # failed casts become NULL and are then rejected


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
        # 1 GB runs out of heap caching the checked rows of a 10-million-row file; the JVM only
        # takes what it uses, and ECOMM_SPARK_DRIVER_MEMORY sets it for larger months.
        .config("spark.driver.memory", os.environ.get("ECOMM_SPARK_DRIVER_MEMORY", "4g"))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    configure(spark)
    return spark


def path_exists(spark: SparkSession, path: str) -> bool:
    """Whether a path exists, through Hadoop's FileSystem (so s3:// on Glue, files locally)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    jsc = spark.sparkContext._jsc
    assert jsc is not None
    fs = hadoop_path.getFileSystem(jsc.hadoopConfiguration())
    return bool(fs.exists(hadoop_path))


# Sources: every row becomes the contract's fields as text, plus where it came from ------------
def read_raw(spark: SparkSession, raw_path: str, ingest_from: str | None) -> DataFrame | None:
    """Raw JSON lines (GZIP) with each field as text, the original line kept as `record`."""
    if not path_exists(spark, raw_path):
        return None
    lines = spark.read.option("basePath", raw_path).text(raw_path)
    if "ingest_date" in lines.columns:
        if ingest_from:
            lines = lines.where(F.col("ingest_date") >= F.lit(ingest_from))  # partition pruning
        batch = F.concat(F.lit("raw-"), F.col("ingest_date"))
    else:
        batch = F.lit("raw")
    schema = StructType(
        [StructField(f, StringType()) for f in CONTRACT_FIELDS]
        + [StructField(CORRUPT, StringType())]
    )
    parsed = lines.where(F.trim("value") != "").select(
        F.from_json(
            "value", schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT}
        ).alias("e"),
        F.col("value").alias("record"),
        batch.alias("batch"),
    )
    # A line that is not a JSON object parses to a null struct or fills the corrupt column.
    malformed = F.col("e").isNull() | F.col(f"e.{CORRUPT}").isNotNull()
    return parsed.select(
        *[F.col(f"e.{f}").alias(f) for f in CONTRACT_FIELDS],
        F.col("record"),
        F.col("batch"),
        F.when(malformed, F.lit("malformed JSON line")).alias("source_error"),
    )


def read_csv(spark: SparkSession, csv_path: str) -> DataFrame:
    """REES46 CSV rows as contract fields; '2019-10-01 00:00:00 UTC' becomes ISO-8601 with Z."""
    header = spark.read.option("header", True).csv(csv_path).columns
    missing = [f for f in EVENT_KEY if f not in header]
    if missing:
        raise ValueError(f"{csv_path}: CSV lacks the columns {', '.join(missing)}")
    # Read again with the header as an explicit all-text schema plus a corrupt-record column,
    # so a row with too few or too many fields (a truncated last line) is flagged, not padded.
    schema = StructType(
        [StructField(c, StringType()) for c in header] + [StructField(CORRUPT, StringType())]
    )
    rows = (
        spark.read.option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT)
        .schema(schema)
        .csv(csv_path)
    )
    file_name = F.regexp_extract(F.input_file_name(), r"([^/]+?)(\.csv)?(\.gz)?$", 1)
    fields = {f: F.col(f) if f in header else F.lit(None).cast("string") for f in CONTRACT_FIELDS}
    fields["event_time"] = F.when(
        F.col("event_time").rlike(_CSV_TIME),
        F.regexp_replace("event_time", _CSV_TIME, "$1T$2Z"),
    ).otherwise(F.col("event_time"))
    # Empty CSV cells mean null in the contract.
    fields = {f: F.when(c != "", c) for f, c in fields.items()}
    return rows.select(
        *[c.alias(f) for f, c in fields.items()],
        F.to_json(F.struct(*[F.col(c) for c in header])).alias("record"),
        F.concat(F.lit("csv-"), F.regexp_replace(file_name, r"[^\w.-]", "_")).alias("batch"),
        F.when(F.col(CORRUPT).isNotNull(), F.lit("malformed CSV row")).alias("source_error"),
    )


# The contract ---------------------------------------------------------------------------------
def _check(condition: Column, reason: str) -> Column:
    return F.when(condition, F.lit(reason))


def _stripped(text: Column) -> Column:
    """Text without surrounding whitespace, NULL when nothing is left (as ecomm's replay does)."""
    # btrim with a character set, not a regular expression: it runs for every field of every row.
    trimmed = F.call_function("btrim", text, F.lit(" \t\r\n"))
    return F.when(trimmed != "", trimmed)


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
    return F.when(text.rlike(_INTEGRAL), _bigint(text)).when(exact_float, as_float.cast("bigint"))


def _utc_timestamp(text: Column) -> Column:
    """ISO-8601 UTC with a Z as TIMESTAMP; NULL for any other shape or an impossible date."""
    return F.when(
        text.rlike(_ISO_UTC),
        F.to_timestamp(F.substring_index(text, "Z", 1), "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS]"),
    )


def conform(rows: DataFrame) -> DataFrame:
    """Type the contract fields; `reason` lists every broken rule (NULL when the row is valid).

    `category_id` in scientific notation (a float that already lost its digits) is nulled and
    flagged in `warning`, the row kept.
    """
    c = F.col
    # Stage 1: parse every field once. Stage 2 only compares what stage 1 produced, so no
    # regular expression or cast runs twice for one field.
    typed = rows.select(
        c("event_time").alias("event_time_text"),
        _utc_timestamp(c("event_time")).alias("event_time"),
        c("event_type"),
        c("product_id").alias("product_id_text"),
        _id(c("product_id")).alias("product_id"),
        c("category_id").alias("category_id_text"),
        c("category_id").rlike(_INTEGRAL).alias("category_id_integral"),
        F.coalesce(c("category_id").rlike(_SCIENTIFIC), F.lit(False)).alias("warning"),
        _stripped(c("category_code")).alias("category_code"),
        _stripped(c("brand")).alias("brand"),
        c("price").alias("price_text"),
        c("price").rlike(_PRICE).alias("price_numeric"),
        c("price").cast("decimal(30,6)").alias("price_wide"),
        c("user_id").alias("user_id_text"),
        _id(c("user_id")).alias("user_id"),
        _stripped(c("user_session")).alias("user_session"),
        c("ingested_at").alias("ingested_at_text"),
        _utc_timestamp(c("ingested_at")).alias("ingested_at"),
        c("record"),
        c("batch"),
        c("source_error"),
    ).withColumn("category_id", F.when(c("category_id_integral"), _bigint(c("category_id_text"))))
    price = c("price_wide").cast("decimal(12,2)")
    reasons = [
        _check(c("event_time_text").isNull(), "event_time: missing"),
        _check(
            c("event_time_text").isNotNull() & c("event_time").isNull(),
            "event_time: not ISO-8601 UTC with a Z",
        ),
        _check(c("event_type").isNull(), "event_type: missing"),
        _check(
            c("event_type").isNotNull() & ~c("event_type").isin(*EVENT_TYPES),
            "event_type: not one of " + "/".join(EVENT_TYPES),
        ),
    ]
    for field in ("product_id", "user_id"):
        text, value = c(f"{field}_text"), c(field)
        reasons += [
            _check(text.isNull(), f"{field}: missing"),
            _check(
                text.isNotNull() & value.isNull() & ~text.rlike(_INTEGRAL),
                f"{field}: not an integer",
            ),
            _check(value.isNull() & text.rlike(_INTEGRAL), f"{field}: out of range"),
        ]
    reasons += [
        _check(
            c("category_id_text").isNotNull() & ~c("category_id_integral") & ~c("warning"),
            "category_id: not an integer",
        ),
        _check(c("category_id_integral") & c("category_id").isNull(), "category_id: out of range"),
        _check(c("price_text").isNull(), "price: missing"),
        _check(~c("price_numeric"), "price: not a non-negative number"),
        _check(
            c("price_numeric")
            & (c("price_wide").isNull() | (c("price_wide") != F.round(c("price_wide"), 2))),
            "price: more than two decimals",
        ),
        _check(c("price_numeric") & price.isNull(), "price: out of range"),
        _check(c("user_session").isNull(), "user_session: missing"),
        _check(
            c("ingested_at_text").isNotNull() & c("ingested_at").isNull(),
            "ingested_at: not ISO-8601 UTC with a Z",
        ),
    ]
    # A line that did not even parse gets that one reason, not a missing-field litany.
    reason = F.coalesce(c("source_error"), F.concat_ws("; ", *reasons))
    return typed.select(
        *[c(f) for f in CONTRACT_FIELDS if f != "price"],
        price.alias("price"),
        F.when(reason != "", reason).alias("reason"),
        c("warning"),
        c("record"),
        c("batch"),
    ).select(*CONTRACT_FIELDS, "reason", "warning", "record", "batch")


def with_derived_columns(events: DataFrame, extra: Sequence[str] = ()) -> DataFrame:
    """event_date, event_hour (UTC), ISO weekday (Monday=1) and top_category, in schema order."""
    first_segment = F.split(F.col("category_code"), r"\.").getItem(0)
    return events.select(
        *[F.col(f) for f in CONTRACT_FIELDS],
        *[F.col(f) for f in extra],
        F.hour("event_time").alias("event_hour"),
        (F.expr("weekday(event_time)") + 1).cast("int").alias("event_weekday"),
        F.when(first_segment != "", first_segment).alias("top_category"),
        F.date_format("event_time", "yyyy-MM-dd").alias("event_date"),
    )


# The job ------------------------------------------------------------------------------------
def curate(
    spark: SparkSession,
    raw_path: str,
    curated_path: str,
    quarantine_path: str,
    csv_path: str | None = None,
    ingest_from: str | None = None,
    print_counts: bool = True,
) -> CurationCounts:
    """Run the job once and return its counts (printed too, for the Glue job's log).

    Idempotent: a second run over the same input leaves the curated data as it was.
    """
    configure(spark)
    if ingest_from and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", ingest_from):
        raise ValueError(f"--ingest_from must be YYYY-MM-DD, got {ingest_from!r}")
    sources = [s for s in (read_raw(spark, raw_path, ingest_from),) if s is not None]
    if csv_path:
        sources.append(read_csv(spark, csv_path))
    if not sources:
        if print_counts:
            print(f"curate_events: nothing to read under {raw_path}")
        return CurationCounts(0, 0, 0, 0, 0, 0, 0, [])
    rows = sources[0]
    for extra in sources[1:]:
        rows = rows.unionByName(extra)
    conformed = conform(rows).persist()
    try:
        is_valid = F.col("reason").isNull()
        totals = conformed.agg(
            F.count(F.lit(1)).alias("read"),
            F.count(F.when(is_valid, 1)).alias("valid"),
            F.count(F.when(F.col("reason").isNotNull(), 1)).alias("rejected"),
            F.count(F.when(is_valid & F.col("warning"), 1)).alias("warnings"),
            F.array_sort(
                F.collect_set(F.when(is_valid, F.date_format("event_time", "yyyy-MM-dd")))
            ).alias("dates"),
        ).first()
        assert totals is not None
        dates = [str(d) for d in totals["dates"]]
        merged = _write_curated(spark, conformed.where(is_valid), dates, curated_path)
        _write_quarantine(conformed.where(F.col("reason").isNotNull()), quarantine_path)
    finally:
        conformed.unpersist()
    counts = CurationCounts(
        read=int(totals["read"]),
        valid=int(totals["valid"]),
        rejected=int(totals["rejected"]),
        duplicates=merged["duplicates"],
        warnings=int(totals["warnings"]),
        new_events=merged["new_events"],
        curated_rows=merged["curated_rows"],
        event_dates=dates,
    )
    if print_counts:
        print(f"curate_events counts: {counts.to_json()}")
    return counts


def _write_curated(
    spark: SparkSession, valid: DataFrame, dates: list[str], curated_path: str
) -> dict[str, int]:
    """Merge the valid rows into the curated dates they touch, and count what the merge did."""
    if not dates:
        return {"duplicates": 0, "new_events": 0, "curated_rows": 0}
    combined = valid.select(*CONTRACT_FIELDS, F.lit(1).alias("_read"))
    if path_exists(spark, curated_path):
        existing = (
            spark.read.schema(CURATED_SCHEMA)
            .parquet(curated_path)
            .where(F.col("event_date").isin(dates))
            .select(*CONTRACT_FIELDS, F.lit(0).alias("_read"))
        )
        combined = combined.unionByName(existing)
    # Exact duplicates become one event with the first ingested_at; `_read` counts how often
    # the event was in this run's input, `_new` is 0 when it was curated already.
    events = combined.groupBy(*EVENT_KEY).agg(
        F.min("ingested_at").alias("ingested_at"),
        F.sum("_read").alias("_read"),
        F.min("_read").alias("_new"),
    )
    # localCheckpoint materialises the merged dates before their old files are replaced: the
    # write must never read a partition it is overwriting.
    curated = (
        with_derived_columns(events, extra=["_read", "_new"])
        .repartition(F.col("event_date"))
        .sortWithinPartitions("event_date", *SORT_ORDER)
        .localCheckpoint(eager=True)
    )
    stats = curated.agg(
        F.count(F.lit(1)).alias("curated_rows"),
        F.coalesce(F.sum(F.greatest(F.col("_read") - 1, F.lit(0))), F.lit(0)).alias("duplicates"),
        F.coalesce(F.sum("_new"), F.lit(0)).alias("new_events"),
    ).first()
    assert stats is not None
    (
        curated.drop("_read", "_new")
        .write.mode("overwrite")
        .option("maxRecordsPerFile", MAX_RECORDS_PER_FILE)
        .option("compression", "snappy")
        .partitionBy("event_date")
        .parquet(curated_path)
    )
    return {k: int(stats[k]) for k in ("duplicates", "new_events", "curated_rows")}


def _write_quarantine(rejects: DataFrame, quarantine_path: str) -> None:
    """Rejected rows with their reasons, one folder per source batch (rewritten on rerun)."""
    out = (
        rejects.select("batch", "reason", "record")
        .repartition(F.col("batch"))
        .sortWithinPartitions("batch", "record", "reason")
    )
    if out.isEmpty():
        return
    (
        out.write.mode("overwrite")
        .option("compression", "gzip")
        .partitionBy("batch")
        .json(quarantine_path)
    )


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
OPTIONAL_ARGS = ("csv_path", "ingest_from", "metric_namespace")


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
    counts = curate(
        spark,
        raw_path=str(args["raw_path"]),
        curated_path=str(args["curated_path"]),
        quarantine_path=str(args["quarantine_path"]),
        csv_path=args["csv_path"],
        ingest_from=args["ingest_from"],
    )
    if job is not None:
        job.commit()
    if args["metric_namespace"]:
        import boto3  # on Glue; imported late so a local run needs no AWS

        publish_heartbeat(boto3.client("cloudwatch"), args["metric_namespace"], counts)
    return counts


if __name__ == "__main__":
    main()

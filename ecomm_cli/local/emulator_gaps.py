"""Close the gaps of the AWS emulator (moto 5.2 in server mode) that break Terraform or slow
the local pipeline.

Each patch makes the emulator answer as AWS does for one call the platform's Terraform makes;
none of them weakens the Terraform itself. They are applied once, in the emulator's own process,
before it serves its first request (`apply_all`). Gaps measured on moto 5.2, see
docs/local-mode.md:

- Kinesis Analytics v2 (Managed Flink): CreateApplication/DescribeApplication return ISO
  timestamps the provider cannot parse and omit ApplicationName (the resource then vanishes from
  state); DeleteApplication and UntagResource are missing.
- S3: a bucket policy that denies requests without TLS (`aws:SecureTransport` false) is treated as
  matching every request, so every object call fails.
- Kinesis: CreateStream ignores Tags, so `tags_all` drifts on every plan.
- Athena: DeleteNamedQuery is missing.
- Glue: the Data Quality ruleset API is missing (500).
- Kinesis shards: every put lists all the shard's records to find the last sequence number and
  every GetRecords scans the shard from its first record, so replaying a large file slows down
  quadratically; puts are not serialised, so concurrent writers to one shard can overwrite each
  other's records. Puts take a lock and both calls go straight to the records they need.
- Every request: to route it, moto lists its own package folder (about 180 `stat` calls, near
  a millisecond). The list is read once.
- Kinesis records: PutRecord, PutRecords and GetRecords answers go through moto's generic model
  serializer, about 25 us per record (most of the emulator's time on a 500-record request).
  These three hot calls answer with the same JSON built directly.
- Lambda: every Kinesis put on a stream with an event source mapping makes the emulator invoke
  the function once per record, through Docker (absent here). Locally the event source mapping
  is played by `ecomm_cli.realtime.event_source_mapping` instead, so the emulator's own
  per-record invocation is switched off.

The patches replace moto internals, so `apply_all` first checks that the installed moto is the
one they were written and tested for (`MOTO_VERSION`), and every patch installs itself through
`_replace` (moto's attribute must exist) or `_add` (moto must still lack it): a moto that moved
or renamed what a patch replaces, or that closed a gap itself, stops the emulator with a clear
error instead of leaving a patch that changes nothing.
"""

from __future__ import annotations

import base64
import calendar
import importlib.metadata
import json
import time
from datetime import datetime
from typing import Any

from ecomm_cli.errors import EcommError

# The moto release the patches were written and tested for; the pin in pyproject.toml names the
# same one (a unit test holds them together). Any other release is refused, patch level
# included: the patches replace moto internals (response handlers, model methods, a module
# function), which moto's patch releases change too (5.x patch releases add operations and move
# handlers onto the generic serializer), and its versions make no promise about internals.
# Raising it means reviewing every patch against the new moto, then the pin and this together.
MOTO_VERSION = "5.2.5"

_SOURCE = "ecomm_cli/local/emulator_gaps.py"
# Set on every function a patch installs (to the patch's name): tells ours from moto's own.
_PATCH_MARK = "_ecomm_emulator_patch"
_ABSENT = object()

_applied = False

# The emulator listens on loopback only; for bucket-policy evaluation its plain-HTTP endpoint
# stands in for the TLS endpoint of S3, so `aws:SecureTransport` is true for its requests.
EMULATOR_CONDITION_CONTEXT = {"aws:securetransport": "true"}


def installed_moto_version() -> str:
    """The installed moto's version, or "none"."""
    try:
        return importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def check_moto_version(installed: str | None = None) -> None:
    """Raise a one-line EcommError unless the installed moto (or `installed`) is MOTO_VERSION."""
    found = installed_moto_version() if installed is None else installed
    if found != MOTO_VERSION:
        raise EcommError(
            f"the emulator patches in {_SOURCE} were written for moto {MOTO_VERSION}, "
            f"found {found}",
            hint=(
                "install the pinned moto with `.venv/bin/pip install -e '.[dev,etl]'`, as "
                f"`make setup` does, or review each patch against moto {found} and raise "
                "MOTO_VERSION and the pin in pyproject.toml together"
            ),
        )


def _patch_name(new: Any) -> str:
    """The patch a replacement belongs to: the `patch_*` function it is defined in."""
    enclosing, inside, _ = str(new.__qualname__).rpartition(".<locals>.")
    return enclosing.rpartition(".")[2] if inside else str(new.__qualname__)


def _where(owner: Any, name: str) -> str:
    """`owner.name` spelled with its moto module, e.g. moto.kinesis.responses.KinesisResponse."""
    if isinstance(owner, type):
        return f"{owner.__module__}.{owner.__qualname__}.{name}"
    return f"{getattr(owner, '__name__', owner)}.{name}"


def _set(owner: Any, name: str, new: Any) -> None:
    """The one place a patch changes moto (tests route it through monkeypatch to undo it)."""
    setattr(owner, name, new)


def _replace(owner: Any, name: str, new: Any) -> Any:
    """Install `new` as moto's `owner.name` and return what it replaces, for wrappers to call.

    moto must have that attribute: when a refactor moved or renamed it, a clear error names the
    patch (the `patch_*` function `new` is defined in) and the attribute, instead of a patch
    that silently changes nothing. A wrapper calls the returned original through a name bound
    just after it is defined (`original = _replace(..., wrapper)`); nothing calls it before.
    """
    current = getattr(owner, name, _ABSENT)
    if current is _ABSENT:
        raise EcommError(
            f"emulator patch {_patch_name(new)} found no {_where(owner, name)} to replace in "
            f"moto {installed_moto_version()}",
            hint=f"moto moved or renamed it: review that patch in {_SOURCE}",
        )
    setattr(new, _PATCH_MARK, _patch_name(new))
    _set(owner, name, new)
    return current


def _add(owner: Any, name: str, new: Any) -> None:
    """Install `new` as `owner.name`, a call moto lacks (the gap itself).

    When moto has one of its own, a clear error: that moto may have closed the gap, and the
    patch would hide its implementation. A replacement of ours in place (the patch applied
    again) is fine.
    """
    current = getattr(owner, name, _ABSENT)
    if current is not _ABSENT and not hasattr(current, _PATCH_MARK):
        raise EcommError(
            f"emulator patch {_patch_name(new)} adds {_where(owner, name)}, which moto "
            f"{installed_moto_version()} already has",
            hint=f"moto may have closed that gap: check it, then drop that part of {_SOURCE}",
        )
    setattr(new, _PATCH_MARK, _patch_name(new))
    _set(owner, name, new)


def _epoch(value: Any) -> Any:
    """ISO-8601 text as epoch seconds, the JSON protocol's timestamp shape."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return value
    return value


def _fix_application_detail(detail: dict[str, Any], name: str) -> dict[str, Any]:
    detail["ApplicationName"] = name
    for key in ("CreateTimestamp", "LastUpdateTimestamp", "ApplicationVersionCreateTimestamp"):
        if key in detail:
            detail[key] = _epoch(detail[key])
    # Terraform waits for READY after create; nothing runs the application in the emulator.
    if detail.get("ApplicationStatus") == "STARTING":
        detail["ApplicationStatus"] = "READY"
    return {k: v for k, v in detail.items() if v is not None}


def patch_kinesis_analytics_v2() -> None:
    from moto.kinesisanalyticsv2 import models
    from moto.kinesisanalyticsv2.responses import KinesisAnalyticsV2Response

    backend_cls = models.KinesisAnalyticsV2Backend

    def create_application(self: Any, application_name: str, **kwargs: Any) -> dict[str, Any]:
        detail = original_create(self, application_name=application_name, **kwargs)
        self.applications[application_name].application_status = "READY"
        return _fix_application_detail(detail, application_name)

    def describe_application(self: Any, application_name: str) -> dict[str, Any]:
        if application_name not in self.applications:
            from moto.core.exceptions import JsonRESTError

            raise JsonRESTError(
                "ResourceNotFoundException", f"Application {application_name} not found"
            )
        return _fix_application_detail(original_describe(self, application_name), application_name)

    def delete_application(self: KinesisAnalyticsV2Response) -> str:
        name = self._get_param("ApplicationName")
        backend = self.kinesisanalyticsv2_backend
        app = backend.applications.pop(name, None)
        if app is not None:
            backend.tagger.delete_all_tags_for_resource(app.application_arn)
        return json.dumps({})

    def untag_resource(self: KinesisAnalyticsV2Response) -> str:
        params = json.loads(self.body)
        self.kinesisanalyticsv2_backend.untag_resource(
            params.get("ResourceARN"), params.get("TagKeys") or []
        )
        return json.dumps({})

    original_create = _replace(backend_cls, "create_application", create_application)
    original_describe = _replace(backend_cls, "describe_application", describe_application)
    _add(KinesisAnalyticsV2Response, "delete_application", delete_application)
    _add(KinesisAnalyticsV2Response, "untag_resource", untag_resource)


def condition_holds(condition: dict[str, Any] | None, context: dict[str, str]) -> bool | None:
    """Evaluate a policy Condition block on `context`.

    True or False when every key it names is in `context` and its operators are Bool or
    StringEquals; None when it names anything else (the caller then leaves it to moto).
    """
    if not condition:
        return True
    for operator, pairs in condition.items():
        if operator not in ("Bool", "StringEquals"):
            return None
        for key, expected in pairs.items():
            actual = context.get(key.lower())
            if actual is None:
                return None
            values = expected if isinstance(expected, list) else [expected]
            if actual.lower() not in {str(v).lower() for v in values}:
                return False
    return True


def effective_policy(policy: dict[str, Any], context: dict[str, str]) -> dict[str, Any]:
    """The policy with statements whose conditions are false removed and true ones unwrapped."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = []
    for statement in statements:
        verdict = condition_holds(statement.get("Condition"), context)
        if verdict is False:
            continue
        if verdict is True:
            statement = {k: v for k, v in statement.items() if k != "Condition"}
        kept.append(statement)
    return {**policy, "Statement": kept}


def patch_s3_secure_transport() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = effective_policy(json.loads(self.policy.decode()), EMULATOR_CONDITION_CONTEXT)
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    _replace(FakeBucket, "get_permission", get_permission)


def patch_kinesis_create_stream_tags() -> None:
    from moto.kinesis.responses import KinesisResponse

    def create_stream(self: KinesisResponse) -> Any:
        result = original(self)
        tags = self._get_param("Tags")
        if tags:
            self.kinesis_backend.add_tags_to_stream(None, self._get_param("StreamName"), tags)
        return result

    original = _replace(KinesisResponse, "create_stream", create_stream)


def patch_athena_delete_named_query() -> None:
    from moto.athena.responses import AthenaResponse

    def delete_named_query(self: AthenaResponse) -> str:
        self.athena_backend.named_queries.pop(self._get_param("NamedQueryId"), None)
        return json.dumps({})

    _add(AthenaResponse, "delete_named_query", delete_named_query)


def patch_athena_delete_work_group_with_history() -> None:
    """AWS refuses to delete a workgroup that still holds query executions or named queries
    unless RecursiveDeleteOption is true (what `force_destroy` sets); moto deletes it anyway,
    so a destroy that fails on AWS would pass here. Made as strict as AWS."""
    from moto.athena.responses import AthenaResponse

    def delete_work_group(self: AthenaResponse) -> Any:
        name = self._get_param("WorkGroup")
        if not self._get_param("RecursiveDeleteOption"):
            backend = self.athena_backend
            holders = [*backend.executions.values(), *backend.named_queries.values()]
            if any(getattr(getattr(h, "workgroup", None), "name", None) == name for h in holders):
                return self.error(
                    f"WorkGroup {name} is not empty: it has queries or named queries "
                    "(set RecursiveDeleteOption to delete them with it)",
                    400,
                )
        return delete_any(self)

    delete_any = _replace(AthenaResponse, "delete_work_group", delete_work_group)


def patch_lambda_kinesis_trigger() -> None:
    from moto.awslambda.models import LambdaBackend

    def send_kinesis_message(self: LambdaBackend, *args: Any, **kwargs: Any) -> None:
        return None

    _replace(LambdaBackend, "send_kinesis_message", send_kinesis_message)


def patch_glue_data_quality_rulesets() -> None:
    """Glue Data Quality rulesets: Create/Get/Update/Delete/List, tags through Glue's tagger."""
    from moto.glue.models import GlueBackend
    from moto.glue.responses import GlueResponse

    def _rulesets(backend: GlueBackend) -> dict[str, dict[str, Any]]:
        if not hasattr(backend, "_ecomm_dq_rulesets"):
            backend._ecomm_dq_rulesets = {}  # type: ignore[attr-defined]
        return backend._ecomm_dq_rulesets  # type: ignore[attr-defined]

    def _arn(self: GlueResponse, name: str) -> str:
        backend = self.glue_backend
        return f"arn:aws:glue:{backend.region_name}:{backend.account_id}:dataQualityRuleset/{name}"

    def _error(code: str, message: str) -> tuple[int, dict[str, str], str]:
        return 400, {"status": "400"}, json.dumps({"__type": code, "message": message})

    def create_data_quality_ruleset(self: GlueResponse) -> Any:
        name = self._get_param("Name")
        rulesets = _rulesets(self.glue_backend)
        if name in rulesets:
            return _error("AlreadyExistsException", f"Ruleset {name} already exists")
        now = time.time()
        rulesets[name] = {
            "Name": name,
            "Description": self._get_param("Description") or "",
            "Ruleset": self._get_param("Ruleset"),
            "TargetTable": self._get_param("TargetTable"),
            "CreatedOn": now,
            "LastModifiedOn": now,
        }
        tags = self._get_param("Tags") or {}
        if tags:
            self.glue_backend.tag_resource(_arn(self, name), tags)
        return json.dumps({"Name": name})

    def get_data_quality_ruleset(self: GlueResponse) -> Any:
        name = self._get_param("Name")
        ruleset = _rulesets(self.glue_backend).get(name)
        if ruleset is None:
            return _error("EntityNotFoundException", f"Cannot find ruleset {name}")
        return json.dumps({k: v for k, v in ruleset.items() if v is not None})

    def update_data_quality_ruleset(self: GlueResponse) -> Any:
        name = self._get_param("Name")
        ruleset = _rulesets(self.glue_backend).get(name)
        if ruleset is None:
            return _error("EntityNotFoundException", f"Cannot find ruleset {name}")
        for key in ("Description", "Ruleset"):
            if self._get_param(key) is not None:
                ruleset[key] = self._get_param(key)
        ruleset["LastModifiedOn"] = time.time()
        return json.dumps({k: ruleset[k] for k in ("Name", "Description", "Ruleset")})

    def delete_data_quality_ruleset(self: GlueResponse) -> Any:
        name = self._get_param("Name")
        if _rulesets(self.glue_backend).pop(name, None) is None:
            return _error("EntityNotFoundException", f"Cannot find ruleset {name}")
        return json.dumps({})

    def list_data_quality_rulesets(self: GlueResponse) -> Any:
        listed = [
            {k: r[k] for k in ("Name", "Description", "CreatedOn", "LastModifiedOn", "TargetTable")}
            for r in _rulesets(self.glue_backend).values()
        ]
        return json.dumps({"Rulesets": listed})

    _add(GlueResponse, "create_data_quality_ruleset", create_data_quality_ruleset)
    _add(GlueResponse, "get_data_quality_ruleset", get_data_quality_ruleset)
    _add(GlueResponse, "update_data_quality_ruleset", update_data_quality_ruleset)
    _add(GlueResponse, "delete_data_quality_ruleset", delete_data_quality_ruleset)
    _add(GlueResponse, "list_data_quality_rulesets", list_data_quality_rulesets)


def patch_kinesis_shard_performance() -> None:
    import threading

    from moto.kinesis.models import Record, Shard

    put_lock = threading.Lock()

    def get_max_sequence_number(self: Shard) -> int:
        return next(reversed(self.records), 0)

    def get_min_sequence_number(self: Shard) -> int:
        return next(iter(self.records), 0)

    def put_record(self: Shard, partition_key: str, data: str, explicit_hash_key: str) -> str:
        with put_lock:
            sequence_number = get_max_sequence_number(self) + 1
            self.records[sequence_number] = Record(
                partition_key, data, sequence_number, explicit_hash_key
            )
        return str(sequence_number)

    def get_records(
        self: Shard, last_sequence_id: str, limit: int | None
    ) -> tuple[list[Any], int, int]:
        # Sequence numbers of a shard are consecutive integers (retention trims the front), so
        # the next records are looked up directly instead of scanning from the first one.
        last = int(last_sequence_id)
        newest = get_max_sequence_number(self)
        results: list[Any] = []
        sequence = max(last + 1, get_min_sequence_number(self))
        while sequence <= newest and (limit is None or len(results) < limit):
            record = self.records.get(sequence)
            if record is not None:
                results.append(record)
                last = sequence
            sequence += 1
        behind = self.records[newest].created_at - results[-1].created_at if results else 0.0
        return results, last, int(behind * 1000)

    _replace(Shard, "get_max_sequence_number", get_max_sequence_number)
    _replace(Shard, "get_min_sequence_number", get_min_sequence_number)
    _replace(Shard, "put_record", put_record)
    _replace(Shard, "get_records", get_records)


def _epoch_millis(moment: datetime) -> float:
    """A timestamp as the JSON protocol writes it: epoch seconds, truncated to milliseconds."""
    base = calendar.timegm(moment.timetuple())
    return base + (moment.microsecond // 1000) / 1000.0 if moment.microsecond else base


def patch_kinesis_record_responses() -> None:
    from moto.kinesis.responses import KinesisResponse

    json_headers = {"Content-Type": "application/x-amz-json-1.1"}

    def answer(body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        return 200, dict(json_headers), json.dumps(body)

    def put_record(self: KinesisResponse) -> Any:
        sequence_number, shard_id = self.kinesis_backend.put_record(
            self._get_param("StreamARN"),
            self._get_param("StreamName"),
            self._get_param("PartitionKey"),
            self._get_param("ExplicitHashKey"),
            self._get_param("Data"),
        )
        return answer({"ShardId": shard_id, "SequenceNumber": sequence_number})

    def put_records(self: KinesisResponse) -> Any:
        result = self.kinesis_backend.put_records(
            self._get_param("StreamARN"), self._get_param("StreamName"), self._get_param("Records")
        )
        return answer(result)

    def get_records(self: KinesisResponse) -> Any:
        next_iterator, records, millis_behind = self.kinesis_backend.get_records(
            self._get_param("StreamARN"), self._get_param("ShardIterator"), self._get_param("Limit")
        )
        return answer(
            {
                "Records": [
                    {
                        "SequenceNumber": str(r.sequence_number),
                        "ApproximateArrivalTimestamp": _epoch_millis(r.created_at_datetime),
                        # Stored as the request's base64 text, which is what GetRecords returns.
                        "Data": r.data
                        if isinstance(r.data, str)
                        else base64.b64encode(r.data).decode(),
                        "PartitionKey": r.partition_key,
                    }
                    for r in records
                ],
                "NextShardIterator": next_iterator,
                "MillisBehindLatest": millis_behind,
            }
        )

    _replace(KinesisResponse, "put_record", put_record)
    _replace(KinesisResponse, "put_records", put_records)
    _replace(KinesisResponse, "get_records", get_records)


def patch_request_routing() -> None:
    from moto import backends

    # The list of moto's service folders does not change while the emulator runs.
    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    listing = _replace(backends, "list_of_moto_modules", list_of_moto_modules)
    modules = tuple(listing())


# Every patch, in the order `apply_all` applies them.
PATCHES = (
    patch_kinesis_analytics_v2,
    patch_s3_secure_transport,
    patch_kinesis_create_stream_tags,
    patch_athena_delete_named_query,
    patch_athena_delete_work_group_with_history,
    patch_lambda_kinesis_trigger,
    patch_glue_data_quality_rulesets,
    patch_kinesis_shard_performance,
    patch_kinesis_record_responses,
    patch_request_routing,
)


def apply_all() -> None:
    """Apply every patch once (idempotent); call before the emulator serves requests.

    A moto other than MOTO_VERSION is refused before anything is patched, and a patch that
    cannot find what it patches (a moto module, class or attribute) stops with an EcommError
    naming it."""
    global _applied
    if _applied:
        return
    check_moto_version()
    for patch in PATCHES:
        try:
            patch()
        except (ImportError, AttributeError) as exc:
            raise EcommError(
                f"emulator patch {patch.__name__} cannot find what it patches in moto "
                f"{installed_moto_version()}: {exc}",
                hint=f"moto moved or renamed it: review that patch in {_SOURCE}",
            ) from exc
    _applied = True

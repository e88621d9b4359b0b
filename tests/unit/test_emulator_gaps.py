"""The emulator's gap patches: their pure logic, the guards that refuse a moto they were not
written for, and the patches whose effect cannot be seen in the emulator's answers (speed).
The others are tested through boto3 against the emulator process in tests/aws/test_emulator.py;
docs/local-mode.md maps every patch to its tests."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import tomllib
from collections import OrderedDict
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecomm_cli.errors import EcommError
from ecomm_cli.local import emulator_gaps
from ecomm_cli.local.emulator_gaps import (
    MOTO_VERSION,
    PATCHES,
    apply_all,
    check_moto_version,
    condition_holds,
    effective_policy,
)
from ecomm_cli.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

SOURCE = "ecomm_cli/local/emulator_gaps.py"
CONTEXT = {"aws:securetransport": "true"}
TLS_ONLY: dict[str, Any] = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def test_tls_only_statement_does_not_apply_to_secure_requests() -> None:
    assert condition_holds(TLS_ONLY["Condition"], CONTEXT) is False
    assert effective_policy({"Statement": [TLS_ONLY]}, CONTEXT)["Statement"] == []


def test_tls_only_statement_applies_to_insecure_requests() -> None:
    policy = effective_policy({"Statement": [TLS_ONLY]}, {"aws:securetransport": "false"})
    assert len(policy["Statement"]) == 1
    assert "Condition" not in policy["Statement"][0]


def test_unknown_conditions_are_left_to_the_emulator() -> None:
    other = {**TLS_ONLY, "Condition": {"StringLike": {"aws:PrincipalArn": "arn:*"}}}
    assert condition_holds(other["Condition"], CONTEXT) is None
    assert effective_policy({"Statement": other}, CONTEXT)["Statement"] == [other]


# --- The guards: which moto the patches are for, and what each of them replaces -------------


@pytest.fixture
def patching(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, str]]:
    """Patches applied in the test go through monkeypatch, so stock moto is back after it.

    Returns the (owner, name) pairs installed, in order."""
    installed: list[tuple[Any, str]] = []

    def undoable_set(owner: Any, name: str, new: Any) -> None:
        installed.append((owner, name))
        monkeypatch.setattr(owner, name, new, raising=False)

    monkeypatch.setattr(emulator_gaps, "_set", undoable_set)
    monkeypatch.setattr(emulator_gaps, "_applied", False)
    return installed


def _moto(dotted: str) -> Any:
    """A moto module, or a class in one: `moto.kinesis.responses.KinesisResponse`."""
    try:
        return importlib.import_module(dotted)
    except ImportError:
        module, _, name = dotted.rpartition(".")
        return getattr(importlib.import_module(module), name)


# What every patch replaces in moto (it must exist) and adds to it (it must be missing).
REPLACES = {
    "patch_kinesis_analytics_v2": [
        ("moto.kinesisanalyticsv2.models.KinesisAnalyticsV2Backend", "create_application"),
        ("moto.kinesisanalyticsv2.models.KinesisAnalyticsV2Backend", "describe_application"),
    ],
    "patch_s3_secure_transport": [("moto.s3.models.FakeBucket", "get_permission")],
    "patch_kinesis_create_stream_tags": [
        ("moto.kinesis.responses.KinesisResponse", "create_stream")
    ],
    "patch_athena_delete_named_query": [],
    "patch_athena_delete_work_group_with_history": [
        ("moto.athena.responses.AthenaResponse", "delete_work_group")
    ],
    "patch_lambda_kinesis_trigger": [
        ("moto.awslambda.models.LambdaBackend", "send_kinesis_message")
    ],
    "patch_glue_data_quality_rulesets": [],
    "patch_kinesis_shard_performance": [
        ("moto.kinesis.models.Shard", name)
        for name in (
            "get_max_sequence_number",
            "get_min_sequence_number",
            "put_record",
            "get_records",
        )
    ],
    "patch_kinesis_record_responses": [
        ("moto.kinesis.responses.KinesisResponse", name)
        for name in ("put_record", "put_records", "get_records")
    ],
    "patch_request_routing": [("moto.backends", "list_of_moto_modules")],
}
ADDS = {
    "patch_kinesis_analytics_v2": [
        ("moto.kinesisanalyticsv2.responses.KinesisAnalyticsV2Response", "delete_application"),
        ("moto.kinesisanalyticsv2.responses.KinesisAnalyticsV2Response", "untag_resource"),
    ],
    "patch_athena_delete_named_query": [
        ("moto.athena.responses.AthenaResponse", "delete_named_query")
    ],
    "patch_glue_data_quality_rulesets": [
        ("moto.glue.responses.GlueResponse", f"{verb}_data_quality_ruleset")
        for verb in ("create", "get", "update", "delete")
    ]
    + [("moto.glue.responses.GlueResponse", "list_data_quality_rulesets")],
}


def test_the_patches_are_written_for_the_pinned_moto() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert f"moto[server]=={MOTO_VERSION}" in pyproject["project"]["dependencies"]


def test_every_patch_is_applied_and_listed_here() -> None:
    defined = {name for name in vars(emulator_gaps) if name.startswith("patch_")}
    assert {patch.__name__ for patch in PATCHES} == defined == set(REPLACES)


@pytest.mark.parametrize("found", ["5.2.6", "5.2.4", "5.3.0", "6.0.0", None])
def test_another_moto_is_refused_before_anything_is_patched(
    found: str | None, monkeypatch: pytest.MonkeyPatch, patching: list[tuple[Any, str]]
) -> None:
    def version(name: str) -> str:
        assert name == "moto"
        if found is None:
            raise importlib.metadata.PackageNotFoundError(name)
        return found

    monkeypatch.setattr(importlib.metadata, "version", version)
    with pytest.raises(EcommError) as refused:
        apply_all()
    assert refused.value.message == (
        "the emulator patches in ecomm_cli/local/emulator_gaps.py were written for moto "
        f"{MOTO_VERSION}, found {found or 'none'}"
    )
    assert refused.value.hint is not None
    assert "pip install" in refused.value.hint and "MOTO_VERSION" in refused.value.hint
    assert "\n" not in refused.value.message + refused.value.hint
    assert patching == []
    assert emulator_gaps._applied is False


def test_the_check_takes_the_version_to_check() -> None:
    check_moto_version(MOTO_VERSION)
    with pytest.raises(EcommError, match=r"found 5\.2\.5\.post1$"):
        check_moto_version("5.2.5.post1")


def test_the_pinned_moto_is_patched_once(
    monkeypatch: pytest.MonkeyPatch, patching: list[tuple[Any, str]]
) -> None:
    monkeypatch.setattr(importlib.metadata, "version", lambda name: MOTO_VERSION)
    apply_all()
    expected = [
        f"{owner}.{name}"
        for patch in PATCHES
        for owner, name in REPLACES[patch.__name__] + ADDS.get(patch.__name__, [])
    ]
    assert sorted(emulator_gaps._where(owner, name) for owner, name in patching) == sorted(expected)
    apply_all()  # idempotent: nothing patched twice
    assert len(patching) == len(expected)


@pytest.mark.parametrize(
    ("patch", "owner", "name"),
    [(patch, owner, name) for patch, targets in REPLACES.items() for owner, name in targets],
)
def test_a_patch_refuses_a_moto_without_what_it_replaces(
    patch: str, owner: str, name: str, monkeypatch: pytest.MonkeyPatch, patching: Any
) -> None:
    monkeypatch.delattr(_moto(owner), name)
    with pytest.raises(EcommError) as refused:
        getattr(emulator_gaps, patch)()
    assert refused.value.message == (
        f"emulator patch {patch} found no {owner}.{name} to replace in moto {MOTO_VERSION}"
    )
    assert refused.value.hint == "moto moved or renamed it: review that patch in " + SOURCE


@pytest.mark.parametrize(
    ("patch", "owner", "name"),
    [(patch, owner, name) for patch, targets in ADDS.items() for owner, name in targets],
)
def test_a_patch_refuses_a_moto_that_has_what_it_adds(
    patch: str, owner: str, name: str, monkeypatch: pytest.MonkeyPatch, patching: Any
) -> None:
    def motos_own(self: Any) -> str:
        return "{}"

    monkeypatch.setattr(_moto(owner), name, motos_own, raising=False)
    with pytest.raises(EcommError) as refused:
        getattr(emulator_gaps, patch)()
    assert refused.value.message == (
        f"emulator patch {patch} adds {owner}.{name}, which moto {MOTO_VERSION} already has"
    )


def test_replace_names_the_patch_and_the_missing_attribute() -> None:
    class Handlers:
        pass

    def patch_example() -> None:
        def handler() -> None:
            pass

        emulator_gaps._replace(Handlers, "handler", handler)

    with pytest.raises(
        EcommError, match=r"^emulator patch patch_example found no .*Handlers\.handler"
    ):
        patch_example()
    assert not hasattr(Handlers, "handler")


def test_a_patch_whose_moto_module_moved_is_named(
    monkeypatch: pytest.MonkeyPatch, patching: Any
) -> None:
    def moved() -> None:
        from moto.kinesis import no_such_module  # type: ignore[attr-defined]  # noqa: F401

    moved.__name__ = "patch_moved"
    monkeypatch.setattr(importlib.metadata, "version", lambda name: MOTO_VERSION)
    monkeypatch.setattr(emulator_gaps, "PATCHES", (moved,))
    with pytest.raises(
        EcommError, match=r"^emulator patch patch_moved cannot find what it patches"
    ):
        apply_all()


# --- Patches whose effect is not visible through the emulator's answers ---------------------


class _NoWalk(OrderedDict[int, Any]):
    """A shard's records that refuse to be walked: only direct lookups are allowed."""

    def keys(self) -> Any:
        raise AssertionError("walked the shard's records")

    values = items = keys


def test_shard_puts_and_reads_go_straight_to_the_records(patching: Any) -> None:
    from moto.kinesis.models import Shard

    emulator_gaps.patch_kinesis_shard_performance()
    shard = Shard(0, 0, 2**128 - 1)
    shard.records = _NoWalk()
    for i in range(1000):
        shard.put_record("k", f"d{i}", "")
    records, last, _ = shard.get_records("995", None)
    assert ([r.data for r in records], last) == (["d995", "d996", "d997", "d998", "d999"], 1000)
    assert (shard.get_min_sequence_number(), shard.get_max_sequence_number()) == (1, 1000)


def test_kinesis_record_calls_answer_without_the_generic_serializer(
    monkeypatch: pytest.MonkeyPatch, patching: Any
) -> None:
    from moto.kinesis.responses import KinesisResponse

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    emulator_gaps.patch_kinesis_record_responses()
    with mock_aws():
        kinesis = boto3.client("kinesis", region_name="us-east-1")
        kinesis.create_stream(StreamName="s", ShardCount=1)
        iterator = kinesis.get_shard_iterator(
            StreamName="s", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

        def serialized(self: Any, result: Any) -> Any:
            raise AssertionError("answered through moto's generic serializer")

        monkeypatch.setattr(KinesisResponse, "serialized", serialized)
        kinesis.put_record(StreamName="s", Data=b"a", PartitionKey="k")
        kinesis.put_records(StreamName="s", Records=[{"Data": b"b", "PartitionKey": "k"}])
        got = kinesis.get_records(ShardIterator=iterator)
    assert [r["Data"] for r in got["Records"]] == [b"a", b"b"]


def test_requests_are_routed_without_listing_moto_again(
    monkeypatch: pytest.MonkeyPatch, patching: Any
) -> None:
    import moto
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    emulator_gaps.patch_request_routing()
    listed: list[str] = []
    listdir = os.listdir

    def spy(path: Any = ".") -> list[str]:
        listed.append(str(path))
        return listdir(path)

    def no_app(service: Any) -> Any:
        return None

    monkeypatch.setattr(os, "listdir", spy)
    dispatcher = DomainDispatcherApplication(create_app=no_app)
    assert [dispatcher.get_backend_for_host(h) for h in ("kinesis", "s3", "athena")] == [
        "kinesis",
        "s3",
        "athena",
    ]
    assert os.path.dirname(moto.__file__) not in listed

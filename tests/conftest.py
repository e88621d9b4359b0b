"""Shared fixtures: isolated settings for every test, and one local stack per test run."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecomm_cli.settings import PROJECT_ROOT, Settings

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data" / "rees46"

# Variables that would make a test depend on the machine or the developer's shell.
_ISOLATED = [
    "ECOMM_ENV",
    "ECOMM_STATE_DIR",
    "ECOMM_ENDPOINT_URL",
    "ECOMM_REGION",
    "ECOMM_FORMAT",
    "ECOMM_FLINK_CONNECTOR_JAR",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
]


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test gets its own state folder and no AWS credentials from the machine."""
    for name in _ISOLATED:
        monkeypatch.delenv(name, raising=False)
    state = tmp_path / "ecomm-state"
    monkeypatch.setenv("ECOMM_STATE_DIR", str(state))
    # No shared credentials/config files, and never ask an instance metadata service.
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return state


# The end-to-end tests share one local stack (one apply per run). Tests that need a quiet stack
# (no offenders yet) run before those that replay bots or real data into it; the README's
# commands run last, since they end with `ecomm local down`.
_E2E_ORDER = [
    "test_local_stack.py",
    "test_realtime_local.py",
    "test_batch_real_data.py",
    "test_replay_crash.py",
    "test_demo.py",
    "test_permissions.py",
    "test_readme_commands.py",
]


# Under pytest-xdist (`make test` runs `-n 2 --dist loadfile --no-loadscope-reorder`), each
# worker builds its own session and module fixtures, and takes whole work units in collection
# order. A unit is one test file (so a module fixture, such as the one PyFlink run of the
# conformance cases, is never built twice), except that the _E2E_ORDER files are ONE unit
# ("local_stack"): one worker runs them, in the order above, against one stack. (xdist's own
# `loadgroup` cannot do this on pytest 9: it renames node ids, which pytest 9 no longer lets a
# plugin do.) The workers put the longest work first (the stack unit, the other e2e tests, then
# Flink, browser, Terraform, Spark and moto tests, the unit tests last), so that no long test
# starts last while the other worker sits idle.
STACK_UNIT = "local_stack"
_XDIST_FIRST = ["e2e", "flink", "browser", "terraform", "spark", "batch", "aws"]


def _work_unit(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return STACK_UNIT if path.rsplit("/", 1)[-1] in _E2E_ORDER else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, with the e2e files of the shared stack as one unit."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class StackAwareLoadFile(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _work_unit(nodeid)

    return StackAwareLoadFile(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        if "/e2e/" not in item.path.as_posix():
            return -1
        return _E2E_ORDER.index(name) if name in _E2E_ORDER else len(_E2E_ORDER)

    items.sort(key=rank)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for item in items:
        uses_stack = "local_stack" in getattr(item, "fixturenames", ())
        if uses_stack and _work_unit(item.nodeid) != STACK_UNIT:
            raise pytest.UsageError(
                f"{item.nodeid} uses the shared local stack: add its file to _E2E_ORDER in "
                "tests/conftest.py, so that it runs on the stack's worker"
            )

    def xdist_rank(item: pytest.Item) -> int:
        if _work_unit(item.nodeid) == STACK_UNIT:
            return 0
        parts = item.path.parts
        folder = parts[parts.index("tests") + 1] if "tests" in parts[:-1] else ""
        return 1 + (_XDIST_FIRST.index(folder) if folder in _XDIST_FIRST else len(_XDIST_FIRST))

    items.sort(key=xdist_rank)  # stable: the order above holds within each rank


def rees46_file(name: str) -> Path:
    """A real REES46 sample from ../shared; when it is absent, a skip with the reason on a
    developer's fresh clone, and a failure in CI (`CI` set), where ../shared is always laid
    beside the clone: there a missing sample is a broken layout, not a reason to test less."""
    path = SHARED_DATA / name
    if not path.is_file():
        reason = f"REES46 sample {path} not present"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must have ../shared beside the clone", pytrace=False)
        pytest.skip(f"{reason} (fresh clone outside the workspace)")
    return path


@pytest.fixture
def rees46() -> Callable[[str], Path]:
    """`rees46(name)`: the path of a real sample (absent: a skip, or a failure in CI)."""
    return rees46_file


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """One emulator + one `terraform apply` of environments/local for the whole test run.

    End-to-end tests share it (the apply takes about a minute); it is stopped at the end.
    Tests that use it must set ECOMM_STATE_DIR to `settings.state_dir` (see `use_stack`).
    """
    from ecomm_cli.local import call_log, stack

    state = tmp_path_factory.mktemp("local-stack")
    saved = os.environ.get("ECOMM_STATE_DIR")
    os.environ["ECOMM_STATE_DIR"] = str(state)
    # Every call the run's e2e tests make is logged for the permission check
    # (tests/e2e/test_permissions.py).
    os.environ[call_log.ENV_VAR] = str(state / "emulator-calls.jsonl")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    settings = Settings.load(env="local", state_dir=state)
    try:
        result = stack.up(settings, stream=False)
        os.environ["ECOMM_TEST_STACK_SECONDS"] = f"{result.seconds:.1f}"
        yield settings
    finally:
        stack.down(settings)
        os.environ.pop(call_log.ENV_VAR, None)
        if saved is None:
            os.environ.pop("ECOMM_STATE_DIR", None)
        else:
            os.environ["ECOMM_STATE_DIR"] = saved


@pytest.fixture
def use_stack(local_stack: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point this test's environment (and so the CLI) at the shared local stack."""
    monkeypatch.setenv("ECOMM_STATE_DIR", str(local_stack.state_dir))
    monkeypatch.setenv("ECOMM_ENV", "local")
    return local_stack

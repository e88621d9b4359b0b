"""`make bench` (bench/run_all.py): every bench runs, a miss fails the whole, results come first.

The benches here are small scripts written by the test, and `ecomm local up/down/status` a
script that logs its calls, so the order (benches needing the stack last, the stack started
for them and stopped after) is checked without a stack.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ecomm_cli.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit


def load_run_all() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_all", PROJECT_ROOT / "bench" / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def script(path: Path, body: str) -> str:
    path.write_text(f"import sys\n{body}\n")
    return str(path)


@pytest.fixture
def run_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_run_all()
    log = tmp_path / "calls.log"
    note = f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')"
    ecomm = script(
        tmp_path / "ecomm.py",
        f"{note}\nsys.exit(1 if sys.argv[1:] == ['local', 'status'] else 0)",
    )
    monkeypatch.setattr(module, "ECOMM", [sys.executable, ecomm])
    bench = module.Bench
    monkeypatch.setattr(
        module,
        "BENCHES",
        (
            bench("needs stack", (script(tmp_path / "s.py", f"{note}\nprint('  met: s')"),), True),
            bench(
                "misses", (script(tmp_path / "m.py", f"{note}\nprint('  MISSED: m')\nsys.exit(1)"),)
            ),
            bench("meets", (script(tmp_path / "ok.py", f"{note}\nprint('  met: ok')"),)),
        ),
    )
    monkeypatch.setattr(module, "unlisted", lambda: [])
    monkeypatch.setattr(sys, "argv", ["run_all.py"])
    module.calls = log  # type: ignore[attr-defined]
    return module


def test_every_bench_runs_and_one_miss_fails_the_whole(
    run_all: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_all.main() == 1
    calls = run_all.calls.read_text().splitlines()
    # The bench after the miss still ran; the stack was started only for the bench needing it,
    # after the others, and stopped after it.
    assert calls == ["", "", "local status", "local up", "", "local down"]
    out, err = capsys.readouterr()
    summary = out.split("== every bench", 1)[1]
    assert "-- misses: FAILED (exit 1)" in summary and "MISSED: m" in summary
    assert "-- meets: ok" in summary and "-- needs stack: ok" in summary
    assert err.strip() == "error: misses missed a target or failed"


def test_all_met_is_exit_0(run_all: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_all, "BENCHES", tuple(b for b in run_all.BENCHES if b.name != "misses"))
    assert run_all.main() == 0


def test_a_bench_left_out_of_the_list_fails_the_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_run_all()
    assert module.unlisted() == []  # every bench/*.py is in BENCHES
    monkeypatch.setattr(
        module, "BENCHES", tuple(b for b in module.BENCHES if "lookup" not in b.script)
    )
    assert module.unlisted() == ["bench/lookup_bench.py"]

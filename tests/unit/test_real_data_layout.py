"""A real-data test without ../shared: a skip on a developer's clone, a failure in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import conftest

pytestmark = pytest.mark.unit


def test_a_missing_sample_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path / "no-shared")
    monkeypatch.setenv("CI", "true")  # what .ci/run is started with
    # BaseException: a skip raised here would otherwise end this test as skipped, not failed.
    with pytest.raises(BaseException) as stopped:
        conftest.rees46_file("cosmetics-2019-10-sample.csv")
    assert stopped.type is pytest.fail.Exception, stopped.value
    assert "CI must have ../shared" in str(stopped.value)


def test_a_missing_sample_skips_outside_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path / "no-shared")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(BaseException) as stopped:
        conftest.rees46_file("cosmetics-2019-10-sample.csv")
    assert stopped.type is pytest.skip.Exception, stopped.value
    assert "fresh clone" in str(stopped.value)


def test_a_present_sample_is_its_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x")
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert conftest.rees46_file("a.csv") == tmp_path / "a.csv"

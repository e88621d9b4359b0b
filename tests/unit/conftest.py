"""Fixtures of the unit tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ecomm_cli.local import emulator_gaps


@pytest.fixture
def emulator_patch(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], None]], None]:
    """`emulator_patch(patch_x)`: apply one emulator patch for this test only.

    Its changes to moto go through monkeypatch, so stock moto is back after the test and other
    tests (the `aws` layer's in-process moto server among them) never depend on the order."""

    def undoable_set(owner: object, name: str, new: object) -> None:
        monkeypatch.setattr(owner, name, new, raising=False)

    monkeypatch.setattr(emulator_gaps, "_set", undoable_set)
    return lambda patch: patch()

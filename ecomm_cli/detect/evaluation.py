"""Precision and recall of the detector against the labels `ecomm sample generate` writes.

Each bot kind has the rule of the same name. For a kind, the predicted offenders are the users
that rule alerted on and the truth is the users labelled with that kind: precision is the share
of predictions that are labelled so, recall the share of labelled bots that were caught.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ecomm_cli.detect.engine import Alert
from ecomm_cli.detect.rules import USER_RULES

LABEL_COLUMNS = ("user_id", "kind", "active_from", "active_until")


class LabelsError(ValueError):
    """The labels file is not the `ecomm sample generate --labels` format."""


@dataclass(frozen=True)
class KindScore:
    """How one rule did against the bots of its kind."""

    kind: str
    labelled: int
    flagged: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        """Share of flagged users that are bots of this kind (None when nobody was flagged)."""
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        """Share of this kind's bots that were flagged (None when none were labelled)."""
        return self.true_positives / self.labelled if self.labelled else None


def read_labels(path: Path) -> dict[int, str]:
    """user_id -> kind from a labels CSV; raises LabelsError on a malformed file."""
    labels: dict[int, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or any(c not in reader.fieldnames for c in LABEL_COLUMNS):
            raise LabelsError(f"{path} needs the columns {', '.join(LABEL_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            user, kind = (row["user_id"] or "").strip(), (row["kind"] or "").strip()
            if not user.isdigit() or kind not in USER_RULES:
                raise LabelsError(f"{path} line {line}: bad user_id {user!r} or kind {kind!r}")
            labels[int(user)] = kind
    return labels


def score(alerts: Iterable[Alert], labels: dict[int, str]) -> list[KindScore]:
    """Precision and recall per bot kind, in the rules' order."""
    flagged: dict[str, set[int]] = {kind: set() for kind in USER_RULES}
    for alert in alerts:
        if alert.user_id is not None and alert.rule in flagged:
            flagged[alert.rule].add(alert.user_id)
    scores = []
    for kind in USER_RULES:
        truth = {user for user, label in labels.items() if label == kind}
        scores.append(KindScore(kind, len(truth), len(flagged[kind]), len(flagged[kind] & truth)))
    return scores

"""Precision and recall of the detector against the labels `ecomm sample generate` writes.

Each bot kind is a rule family of the manifest: the short rule of the same name and its
sustained counterpart (flood and sustained_volume, scraper and sustained_scraper, ...). For a
kind, the flagged users are those any rule of its family alerted on; recall is the share of the
kind's labelled bots that were flagged, precision the share of flagged users that are bots of
any kind (a scraper bot that is also caught for its volume is still a bot: what precision must
guard is a customer flagged).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ecomm_cli.detect.engine import Alert
from ecomm_cli.detect.rules import MANIFEST

LABEL_COLUMNS = ("user_id", "kind", "active_from", "active_until")


class LabelsError(ValueError):
    """The labels file is not the `ecomm sample generate --labels` format."""


@dataclass(frozen=True)
class KindScore:
    """How one rule did against the bots of its kind."""

    kind: str
    labelled: int
    flagged: int
    true_positives: int  # flagged bots of this kind
    bots_flagged: int  # flagged bots of any kind

    @property
    def precision(self) -> float | None:
        """Share of flagged users that are bots (None when nobody was flagged)."""
        return self.bots_flagged / self.flagged if self.flagged else None

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
            if not user.isdigit() or kind not in MANIFEST.families():
                raise LabelsError(f"{path} line {line}: bad user_id {user!r} or kind {kind!r}")
            labels[int(user)] = kind
    return labels


def score(alerts: Iterable[Alert], labels: dict[int, str]) -> list[KindScore]:
    """Precision and recall per bot kind (rule family), in the manifest's order."""
    families = MANIFEST.families()
    family_of = {rule: family for family, rules in families.items() for rule in rules}
    flagged: dict[str, set[int]] = {family: set() for family in families}
    for alert in alerts:
        if alert.user_id is not None and alert.rule in family_of:
            flagged[family_of[alert.rule]].add(alert.user_id)
    bots = set(labels)
    scores = []
    for kind in families:
        truth = {user for user, label in labels.items() if label == kind}
        scores.append(
            KindScore(
                kind,
                labelled=len(truth),
                flagged=len(flagged[kind]),
                true_positives=len(flagged[kind] & truth),
                bots_flagged=len(flagged[kind] & bots),
            )
        )
    return scores

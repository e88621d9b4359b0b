"""The detection envelope: which bots the rules catch, measured on a traffic model of its own.

This model is used only to evaluate the rules, never to choose their thresholds (those come from
the real REES46 samples: tuned on one, checked on the other, docs/realtime.md). Its bots are not
shaped to stand out: each kind runs at an intensity drawn from well below to several times its
short rule's threshold rate, with jittered (Poisson) timing, rotating products and sessions, for
minutes to an hour. Its hard negatives are people who look busy: bulk buyers, fast browsers,
cart clearers, users on flaky connections.

`evaluate()` runs the detector over all of it and reports, per bot kind (a rule family of the
manifest: the short rule and its sustained counterpart), the recall in every cell of intensity x
duration, and the hard negatives flagged. `in_envelope()` is the stated envelope: a cell is in it
when the bot's expected count reaches, with a margin for the jitter, the threshold of its short
rule in one short window or of its sustained rule over the run; tests assert recall >= 0.95 in
every such cell (docs/realtime.md, "Detection envelope").
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from ecomm_cli.detect.engine import Detector
from ecomm_cli.detect.model import Event
from ecomm_cli.detect.rules import MANIFEST, Thresholds

# Intensity: the bot's rate as a multiple of its short rule's threshold rate (threshold / window).
INTENSITIES = (0.1, 0.25, 0.5, 0.8, 1.5, 3.0)
DURATIONS_MINUTES = (5, 20, 30, 60)
# Past the short rules' thresholds an hour-long run tells nothing new and costs many events.
FAST_INTENSITY = 1.5
FAST_DURATIONS_MINUTES = (5, 20)
HARD_NEGATIVES = ("bulk_buyer", "fast_browser", "cart_clearer", "flaky_sessions")
# The margins that put a cell in the envelope: expected count >= margin x threshold (Poisson
# jitter: at these margins a count under the threshold is a few standard deviations away).
SHORT_MARGIN = 1.5
SUSTAINED_MARGIN = 1.25
DAY_MS = 86_400_000
START_MS = 1_569_888_000_000  # 2019-10-01T00:00:00Z, the samples' month


@dataclass(frozen=True)
class Cell:
    kind: str
    intensity: float
    minutes: int


@dataclass
class CellResult:
    cell: Cell
    bots: int
    caught: int  # by a rule of the bot's own kind (family)
    inside: bool
    short_flagged: int = 0  # bots any short-window rule flagged (of any kind)

    @property
    def recall(self) -> float:
        return self.caught / self.bots if self.bots else 0.0


@dataclass
class EnvelopeReport:
    cells: list[CellResult]
    hard_negatives: dict[str, int]  # kind -> how many
    hard_negatives_flagged: dict[str, list[str]]  # kind -> the rules that flagged one
    events: int
    seed: int
    bots_per_cell: int
    alerts_by_rule: dict[str, int] = field(default_factory=dict)


def _rule_of(kind: str, sustained: bool) -> str:
    rules = MANIFEST.families()[kind]
    return next(r for r in rules if (MANIFEST.rule(r).window_slide is not None) == sustained)


def _threshold_name(rule: str) -> str:
    return next(p.name for p in MANIFEST.rule(rule).parameters if p.role == "threshold")


def short_rate(kind: str, thresholds: Thresholds) -> float:
    """What the short rule of `kind` counts per second at exactly its threshold."""
    rule = _rule_of(kind, sustained=False)
    return float(thresholds[_threshold_name(rule)]) / float(thresholds.window_seconds(rule))


def in_envelope(cell: Cell, thresholds: Thresholds) -> bool:
    """The stated envelope: the bot's expected count reaches its short rule's threshold in one
    short window (x SHORT_MARGIN), or its sustained rule's over the run (x SUSTAINED_MARGIN).

    Counted in the window that holds most of the run whatever its phase: a run of L seconds
    fills a whole tumbling window of W only when L >= 2W (else at worst L / 2 falls in one), and
    a hopping window of W sliding by S holds min(L, W - S) of it."""
    rate = cell.intensity * short_rate(cell.kind, thresholds)
    short, sustained = _rule_of(cell.kind, False), _rule_of(cell.kind, True)
    run = cell.minutes * 60.0
    window = float(thresholds.window_seconds(short))
    per_short_window = rate * min(window, run / 2)
    hop = float(thresholds.window_seconds(sustained))
    over_run = rate * min(run, hop - float(thresholds.slide_seconds(sustained) or 0))
    short_needed = SHORT_MARGIN * float(thresholds[_threshold_name(short)])
    sustained_needed = SUSTAINED_MARGIN * float(thresholds[_threshold_name(sustained)])
    return per_short_window >= short_needed or over_run >= sustained_needed


def cells(kinds: Iterable[str] | None = None) -> list[Cell]:
    """The evaluation grid: every kind x intensity x duration (fast bots: the shortest only)."""
    grid = []
    for kind in kinds or MANIFEST.families():
        for intensity in INTENSITIES:
            minutes = FAST_DURATIONS_MINUTES if intensity >= FAST_INTENSITY else DURATIONS_MINUTES
            grid += [Cell(kind, intensity, m) for m in minutes]
    return grid


# --- the traffic model ---------------------------------------------------------------------------


def _poisson_times(rng: random.Random, start_ms: int, rate: float, minutes: float) -> list[int]:
    """Event times of a Poisson process of `rate` per second: jittered, never periodic."""
    times: list[int] = []
    t, end = float(start_ms), start_ms + minutes * 60_000
    while True:
        t += rng.expovariate(rate) * 1000
        if t >= end:
            return times
        times.append(int(t))


def bot_events(
    cell: Cell, user: int, start_ms: int, rng: random.Random, thresholds: Thresholds
) -> list[Event]:
    """One bot of `cell`, from `start_ms`: its events in time order."""
    rate = cell.intensity * short_rate(cell.kind, thresholds)
    session = f"bot-{user}-0"
    sessions = 0
    events: list[Event] = []
    if cell.kind == "flood":
        # Many actions, on a rotating handful of products, a new session every ~15 minutes.
        catalog = [rng.randrange(1_000_000, 9_999_999) for _ in range(40)]
        for ts in _poisson_times(rng, start_ms, rate, cell.minutes):
            if rng.random() < 1 / (rate * 900):
                sessions += 1
                session = f"bot-{user}-{sessions}"
            events.append(Event(ts, "view", rng.choice(catalog), user, session))
    elif cell.kind == "scraper":
        # A catalog walk: mostly new products, a few revisits.
        product = rng.randrange(1_000_000, 9_000_000)
        seen: list[int] = []
        for ts in _poisson_times(rng, start_ms, rate, cell.minutes):
            if seen and rng.random() < 0.05:
                events.append(Event(ts, "view", rng.choice(seen), user, session))
                continue
            product += rng.randrange(1, 50)
            seen.append(product)
            events.append(Event(ts, "view", product, user, session))
    elif cell.kind == "cart_stuffer":
        # Cart adds of ever new products, a view now and then, never a purchase.
        product = rng.randrange(1_000_000, 9_000_000)
        for ts in _poisson_times(rng, start_ms, rate, cell.minutes):
            product += rng.randrange(1, 50)
            if rng.random() < 0.3:
                events.append(Event(max(start_ms, ts - 500), "view", product, user, session))
            events.append(Event(ts, "cart", product, user, session))
    elif cell.kind == "session_cycler":
        # A price watcher that drops its cookies: each new session (at the bot's rate) lands on
        # one of the few products it watches; between them it browses at a person's pace.
        watched = [rng.randrange(1_000_000, 9_999_999) for _ in range(5)]
        renewals = [(ts, True) for ts in _poisson_times(rng, start_ms, rate, cell.minutes)]
        browsing = [(ts, False) for ts in _poisson_times(rng, start_ms, 1 / 60, cell.minutes)]
        for ts, renews in sorted(renewals + browsing):
            if renews:
                sessions += 1
                session = f"bot-{user}-{sessions}"
                product = rng.choice(watched)
            else:
                product = rng.randrange(1_000_000, 9_999_999)
            events.append(Event(ts, "view", product, user, session))
    else:
        raise ValueError(f"no bot model for kind {cell.kind!r}")
    return sorted(events)


def hard_negative_events(kind: str, user: int, start_ms: int, rng: random.Random) -> list[Event]:
    """A busy but human user: what the rules must never flag."""
    session = f"person-{user}"
    events: list[Event] = []
    t = start_ms

    def gap(low: float, high: float) -> int:
        return int(rng.uniform(low, high) * 1000)

    if kind == "bulk_buyer":
        # Fills a big cart over half an hour (a view before each add), then one checkout.
        items = [rng.randrange(1_000_000, 9_999_999) for _ in range(rng.randrange(40, 80))]
        for product in items:
            t += gap(8, 40)
            events.append(Event(t, "view", product, user, session))
            t += gap(2, 10)
            events.append(Event(t, "cart", product, user, session))
        t += gap(30, 120)
        events += [Event(t, "purchase", p, user, session) for p in items]  # one second
    elif kind == "fast_browser":
        # Skims quickly in a few spurts within an hour: 10 to 20 products a minute, a few minutes.
        for _ in range(3):
            t += gap(300, 900)
            for _ in range(rng.randrange(25, 45)):
                t += gap(2, 5)
                events.append(Event(t, "view", rng.randrange(1_000_000, 9_999_999), user, session))
    elif kind == "cart_clearer":
        # Fills a cart, thinks again and clears it (one burst), three times in an hour.
        for _ in range(3):
            items = []
            for _ in range(rng.randrange(20, 40)):
                t += gap(5, 20)
                product = rng.randrange(1_000_000, 9_999_999)
                items.append(product)
                events.append(Event(t, "cart", product, user, session))
            t += gap(20, 60)
            events += [Event(t, "remove_from_cart", p, user, session) for p in items]
    elif kind == "flaky_sessions":
        # A phone on a poor connection: a new session every few minutes, for an hour.
        for n in range(rng.randrange(10, 20)):
            session = f"person-{user}-{n}"
            for _ in range(rng.randrange(3, 12)):
                t += gap(10, 40)
                events.append(Event(t, "view", rng.randrange(1_000_000, 9_999_999), user, session))
    else:
        raise ValueError(f"no model for hard negative {kind!r}")
    return events


def evaluate(
    seed: int = 42,
    bots_per_cell: int = 20,
    hard_negatives_per_kind: int = 50,
    thresholds: Thresholds | None = None,
    grid: list[Cell] | None = None,
) -> EnvelopeReport:
    """Run the detector over the model's bots and hard negatives; recall per cell and the hard
    negatives flagged."""
    thresholds = thresholds or Thresholds()
    rng = random.Random(seed)
    grid = grid if grid is not None else cells()
    streams: list[list[Event]] = []
    owner: dict[int, Cell] = {}
    user = 10**9
    for cell in grid:
        for _ in range(bots_per_cell):
            user += 1
            owner[user] = cell
            start = START_MS + rng.randrange(0, DAY_MS)
            streams.append(bot_events(cell, user, start, rng, thresholds))
    negatives: dict[int, str] = {}
    for kind in HARD_NEGATIVES:
        for _ in range(hard_negatives_per_kind):
            user += 1
            negatives[user] = kind
            streams.append(
                hard_negative_events(kind, user, START_MS + rng.randrange(0, DAY_MS), rng)
            )
    events = sorted(event for stream in streams for event in stream)
    alerts = list(Detector(thresholds).run(events))
    family_of = {rule: family for family, rules in MANIFEST.families().items() for rule in rules}
    caught = {(a.user_id, family_of.get(a.rule)) for a in alerts if a.user_id is not None}
    short_rules = {r.name for r in MANIFEST.rules if r.family and r.window_slide is None}
    short_flagged = {a.user_id for a in alerts if a.rule in short_rules}
    by_cell: dict[Cell, list[int]] = {}
    for bot, cell in owner.items():
        by_cell.setdefault(cell, []).append(bot)
    results = [
        CellResult(
            cell,
            bots=len(bots),
            caught=sum((bot, cell.kind) in caught for bot in bots),
            inside=in_envelope(cell, thresholds),
            short_flagged=sum(bot in short_flagged for bot in bots),
        )
        for cell, bots in by_cell.items()
    ]
    flagged: dict[str, list[str]] = {kind: [] for kind in HARD_NEGATIVES}
    for alert in alerts:
        if alert.user_id in negatives:
            flagged[negatives[alert.user_id]].append(alert.rule)
    per_rule: dict[str, int] = {}
    for alert in alerts:
        per_rule[alert.rule] = per_rule.get(alert.rule, 0) + 1
    return EnvelopeReport(
        cells=results,
        hard_negatives=dict.fromkeys(HARD_NEGATIVES, hard_negatives_per_kind),
        hard_negatives_flagged=flagged,
        events=len(events),
        seed=seed,
        bots_per_cell=bots_per_cell,
        alerts_by_rule=per_rule,
    )


def flagged_rate_upper_bound(flagged: int, users: int, confidence: float = 0.95) -> float:
    """The one-sided upper confidence bound of a rate seen as `flagged` of `users` (exact,
    Clopper-Pearson): with none flagged, 1 - (1 - confidence) ** (1 / users)."""
    if users <= 0:
        raise ValueError("users must be positive")
    if flagged >= users:
        return 1.0
    alpha = 1.0 - confidence

    def cdf(p: float) -> float:  # P(X <= flagged) for X ~ Binomial(users, p)
        if p <= 0.0:
            return 1.0
        if p >= 1.0:
            return 0.0
        total = 0.0
        for k in range(flagged + 1):
            log_term = (
                math.lgamma(users + 1)
                - math.lgamma(k + 1)
                - math.lgamma(users - k + 1)
                + k * math.log(p)
                + (users - k) * math.log1p(-p)
            )
            total += math.exp(log_term)
        return total

    low, high = flagged / users, 1.0
    for _ in range(100):
        middle = (low + high) / 2
        if cdf(middle) > alpha:
            low = middle
        else:
            high = middle
    return high


# --- the docs block ------------------------------------------------------------------------------

BLOCK_START = "<!-- detection-envelope:start (generated by python -m ecomm_cli.detect.envelope) -->"
BLOCK_END = "<!-- detection-envelope:end -->"
# What each kind's rate counts, for the sentences.
UNITS = {
    "flood": "actions",
    "scraper": "distinct products viewed",
    "cart_stuffer": "cart adds (no purchase)",
    "session_cycler": "new sessions",
}


def thresholds_fingerprint(thresholds: Thresholds) -> str:
    """The values the figures were measured with: a test compares it with the shipped ones."""
    return ", ".join(f"{k}={v}" for k, v in sorted(thresholds.as_dict().items()))


def _per_hour(cell: Cell, thresholds: Thresholds) -> float:
    return cell.intensity * short_rate(cell.kind, thresholds) * 3600


def _short_note(result: CellResult) -> str:
    if result.short_flagged == 0:
        return "none of them tripped a short-window rule: the sustained rule caught them"
    return f"{result.short_flagged} of them tripped a short-window rule by chance"


def statements(report: EnvelopeReport, thresholds: Thresholds) -> list[str]:
    """Per kind, the slowest bot inside the envelope that stays under its short rule for 30
    minutes or more, and the fastest short run caught: what the envelope promises, in words."""
    lines = []
    for kind in MANIFEST.families():
        mine = [r for r in report.cells if r.cell.kind == kind and r.inside]
        slow = [r for r in mine if r.cell.intensity < 1 and r.cell.minutes >= 30]
        slowest = min(slow, key=lambda r: (r.cell.intensity, r.cell.minutes), default=None)
        if slowest is not None:
            c = slowest.cell
            lines.append(
                f"- A {kind.replace('_', ' ')} sustained at {_per_hour(c, thresholds):,.0f} "
                f"{UNITS[kind]} per hour ({c.intensity:g} x its short rule's threshold rate, so "
                f"under it) for {c.minutes} minutes is caught in {slowest.recall:.0%} of runs "
                f"({slowest.caught} of {slowest.bots}; {_short_note(slowest)})."
            )
        short = [r for r in mine if r.cell.minutes == min(DURATIONS_MINUTES)]
        quickest = min(short, key=lambda r: r.cell.intensity, default=None)
        if quickest is not None:
            c = quickest.cell
            lines.append(
                f"- A {kind.replace('_', ' ')} at {_per_hour(c, thresholds):,.0f} {UNITS[kind]} "
                f"per hour ({c.intensity:g} x) for only {c.minutes} minutes is caught in "
                f"{quickest.recall:.0%} of runs ({quickest.caught} of {quickest.bots})."
            )
    return lines


def markdown(report: EnvelopeReport, thresholds: Thresholds) -> str:
    """The envelope as docs/realtime.md shows it: statements, then recall per kind x intensity
    x duration (bold: inside the stated envelope), then the hard negatives."""
    durations = DURATIONS_MINUTES
    out = [
        f"Measured with `python -m ecomm_cli.detect.envelope --write-docs` (seed {report.seed}, "
        f"{report.bots_per_cell} bots per cell, {report.events:,} events; thresholds: the "
        "manifest's defaults).",
        "",
        *statements(report, thresholds),
        "",
        "Recall (bots caught by their own kind's rules / bots) per intensity x run length; "
        "**bold** cells are inside the stated envelope, where the test requires >= 0.95.",
        "",
        "| kind | intensity (x short threshold rate) | per hour | "
        + " | ".join(f"{m} min" for m in durations)
        + " |",
        "|---|---:|---:|" + "---:|" * len(durations),
    ]
    by_key = {(r.cell.kind, r.cell.intensity, r.cell.minutes): r for r in report.cells}
    for kind in MANIFEST.families():
        for intensity in INTENSITIES:
            row = [
                kind,
                f"{intensity:g}",
                f"{_per_hour(Cell(kind, intensity, 1), thresholds):,.0f}",
            ]
            for minutes in durations:
                result = by_key.get((kind, intensity, minutes))
                if result is None:
                    row.append("-")
                else:
                    text = f"{result.recall:.2f}"
                    row.append(f"**{text}**" if result.inside else text)
            out.append("| " + " | ".join(row) + " |")
    out += [
        "",
        "| hard negative | users | flagged | by rules |",
        "|---|---:|---:|---|",
    ]
    for kind, users in report.hard_negatives.items():
        rules = sorted(set(report.hard_negatives_flagged[kind]))
        flagged = len(report.hard_negatives_flagged[kind])
        out.append(f"| {kind} | {users} | {flagged} | {', '.join(rules) or '-'} |")
    out += ["", f"Thresholds measured: `{thresholds_fingerprint(thresholds)}`"]
    return "\n".join(out)


def replace_block(text: str, block: str) -> str:
    start, end = text.index(BLOCK_START), text.index(BLOCK_END)
    return text[: start + len(BLOCK_START)] + "\n" + block + "\n" + text[end:]


def main(argv: list[str] | None = None) -> None:
    import argparse

    from ecomm_cli.settings import PROJECT_ROOT

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bots", type=int, default=20, help="bots per cell")
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/realtime.md")
    args = parser.parse_args(argv)
    thresholds = Thresholds()
    block = markdown(evaluate(seed=args.seed, bots_per_cell=args.bots), thresholds)
    print(block)
    if args.write_docs:
        docs = PROJECT_ROOT / "docs" / "realtime.md"
        docs.write_text(replace_block(docs.read_text(), block))


if __name__ == "__main__":
    main()

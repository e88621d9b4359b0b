"""`ecomm sample generate`: REES46 shape, determinism, realistic bursts and skew, bot labels."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ecomm_cli import contract
from ecomm_cli.commands import sample as sample_command
from ecomm_cli.sample import BotKind, SampleError, SampleSpec, generate_sample, parse_bots

pytestmark = pytest.mark.unit

TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ALL_BOTS = {
    BotKind.flood: 2,
    BotKind.scraper: 2,
    BotKind.cart_stuffer: 2,
    BotKind.session_cycler: 2,
}


def _generate(rows: int, seed: int = 1, days: int = 1, bots=None) -> tuple[str, str]:
    events, labels = io.StringIO(), io.StringIO()
    generate_sample(SampleSpec(rows=rows, days=days, seed=seed, bots=bots or {}), events, labels)
    return events.getvalue(), labels.getvalue()


@pytest.fixture(scope="module")
def sample_rows() -> list[list[str]]:
    text, _ = _generate(60_000, seed=11, days=2, bots=ALL_BOTS)
    return list(csv.reader(io.StringIO(text)))


def test_same_seed_same_bytes_and_another_seed_differs() -> None:
    first, first_labels = _generate(20_000, seed=5, bots=ALL_BOTS)
    again, again_labels = _generate(20_000, seed=5, bots=ALL_BOTS)
    other, _ = _generate(20_000, seed=6, bots=ALL_BOTS)
    assert first == again and first_labels == again_labels
    assert first != other


def test_rows_have_the_rees46_shape_and_pass_the_event_contract(sample_rows) -> None:
    header, *rows = sample_rows
    assert header == list(contract.COLUMNS)
    assert len(rows) == 60_000
    for row in rows:
        assert TIME.match(row[0]), row
        assert len(row[3]) == 19 and row[3].isdigit(), row
        assert UUID.match(row[8]), row
        assert row[4] == "" or re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", row[4]), row
        assert re.fullmatch(r"\d+\.\d{2}", row[6]), row
        parsed = contract.parse_row(row)
        assert parsed.event is not None, parsed.reason
    assert [r[0] for r in rows] == sorted(r[0] for r in rows), "not sorted by event_time"
    assert {r[1] for r in rows} == {"view", "cart", "remove_from_cart", "purchase"}
    assert 0.05 < sum(r[4] == "" for r in rows) / len(rows) < 0.6  # uncoded categories
    assert 0.03 < sum(r[5] == "" for r in rows) / len(rows) < 0.5  # unknown brands
    days = {r[0][:10] for r in rows}
    assert days == {"2019-10-01", "2019-10-02"}


def test_traffic_has_real_customers_bursts(sample_rows) -> None:
    same_second = Counter((r[7], r[1], r[0]) for r in sample_rows[1:])
    checkouts = [n for (_, kind, _), n in same_second.items() if kind == "purchase" and n > 1]
    clearings = [
        n for (_, kind, _), n in same_second.items() if kind == "remove_from_cart" and n > 1
    ]
    assert len(checkouts) > 20 and max(checkouts) >= 8
    assert len(clearings) > 10


def test_popularity_is_skewed_and_traffic_is_seasonal(sample_rows) -> None:
    rows = sample_rows[1:]
    views = Counter(r[2] for r in rows if r[1] == "view")
    top = sum(n for _, n in views.most_common(max(1, len(views) // 100)))
    assert top / sum(views.values()) > 0.10  # the top 1% of products: well over 1% of views
    brands = Counter(r[5] for r in rows if r[5])
    assert brands.most_common(1)[0][1] > 5 * sorted(brands.values())[len(brands) // 2]
    by_hour = Counter(int(r[0][11:13]) for r in rows)
    assert by_hour[17] > 3 * by_hour[2]  # evening peak against the small hours (UTC)
    prices = {r[4]: float(r[6]) for r in rows if r[4]}
    assert prices  # categories carry their own price levels: a notebook is not a kettle
    notebooks = [float(r[6]) for r in rows if r[4] == "computers.notebook"]
    kettles = [float(r[6]) for r in rows if r[4] == "appliances.kitchen.kettle"]
    assert len(notebooks) >= 20 and len(kettles) >= 20, (len(notebooks), len(kettles))
    assert sorted(notebooks)[len(notebooks) // 2] > 5 * sorted(kettles)[len(kettles) // 2]


def test_labels_name_every_bot_with_its_active_span(sample_rows) -> None:
    _, labels_text = _generate(60_000, seed=11, days=2, bots=ALL_BOTS)
    labels = list(csv.DictReader(io.StringIO(labels_text)))
    assert Counter(row["kind"] for row in labels) == {kind.value: 2 for kind in BotKind}
    by_user: dict[str, list[str]] = {}
    for row in sample_rows[1:]:
        by_user.setdefault(row[7], []).append(row[0])
    for label in labels:
        times = by_user[label["user_id"]]
        first = datetime.strptime(times[0], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        last = datetime.strptime(times[-1], "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        assert first.strftime("%Y-%m-%dT%H:%M:%SZ") == label["active_from"]
        assert last.strftime("%Y-%m-%dT%H:%M:%SZ") == label["active_until"]


def test_impossible_requests_are_refused() -> None:
    with pytest.raises(SampleError, match="bots alone"):
        _generate(100, bots={BotKind.flood: 3})
    with pytest.raises(SampleError, match="unknown bot kind"):
        parse_bots("flood=1,robot=2")
    with pytest.raises(SampleError, match="KIND=COUNT"):
        parse_bots("flood")
    assert parse_bots(" flood=1, scraper=2,flood=1 ") == {BotKind.flood: 2, BotKind.scraper: 2}


def _cli() -> typer.Typer:
    return sample_command.app


def test_cli_writes_the_files_and_reports(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ECOMM_SAMPLE_SEED", raising=False)
    out, labels = tmp_path / "events.csv", tmp_path / "labels.csv"
    args = ["generate", "--rows", "5000", "--seed", "3", "--out", str(out), "--labels", str(labels)]
    result = CliRunner().invoke(_cli(), [*args, "--bots", "flood=1,session_cycler=1"])
    assert result.exit_code == 0, result.output
    assert "wrote 5,000 rows" in result.output
    assert len(out.read_text().splitlines()) == 5001
    assert len(labels.read_text().splitlines()) == 3


def test_cli_fails_cleanly_and_leaves_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    runner = CliRunner()
    result = runner.invoke(
        _cli(), ["generate", "--rows", "50", "--out", str(out), "--bots", "flood=2"]
    )
    assert result.exit_code == 2
    assert "bots alone" in result.output and "Traceback" not in result.output
    assert not out.exists()
    result = runner.invoke(_cli(), ["generate", "--out", str(out), "--start", "October"])
    assert result.exit_code == 2 and "not a date" in result.output

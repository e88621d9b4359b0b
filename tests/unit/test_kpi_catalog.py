"""The KPI catalog (headers checked against the SQL) and the command-line parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomm_cli.errors import EcommError
from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.athena_engine import athena_literal, backoff_delays, query_cost_usd
from ecomm_cli.kpi.parameters import ALL_FROM, ALL_TO, KpiParameters, parse_hours

pytestmark = pytest.mark.unit

EXPECTED = {
    "brands-to-push",
    "cart-abandonment",
    "funnel",
    "revenue",
    "top-categories",
    "unique-visitors",
}


def test_the_six_kpis_load_with_their_declared_parameters() -> None:
    assert set(catalog.names()) == EXPECTED
    cart = catalog.load("cart-abandonment")
    assert cart.parameters == ("from_date", "to_date", "hour_from", "hour_to")
    assert cart.columns[0] == "event_date"
    assert set(catalog.titles()) == EXPECTED


def test_unknown_kpi_names_the_known_ones() -> None:
    with pytest.raises(EcommError) as info:
        catalog.load("visitors")
    assert "unknown KPI" in info.value.message
    assert info.value.hint is not None and "unique-visitors" in info.value.hint


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.sql"
    path.write_text(text)
    return path


GOOD_HEADER = "-- kpi: k\n-- title: T\n-- parameters: from_date\n-- columns: n\n"


def test_a_header_that_lies_about_parameters_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "k", GOOD_HEADER + "SELECT COUNT(*) AS n FROM events WHERE a = ? AND b = ?")
    with pytest.raises(EcommError, match="2 placeholders for 1 declared"):
        catalog.load("k", tmp_path)


def test_a_header_that_lies_about_columns_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "k", GOOD_HEADER + "SELECT COUNT(*) AS total FROM events WHERE a = ?")
    with pytest.raises(EcommError, match="header columns"):
        catalog.load("k", tmp_path)


def test_a_header_naming_another_kpi_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "other", GOOD_HEADER + "SELECT COUNT(*) AS n FROM events WHERE a = ?")
    with pytest.raises(EcommError, match="names KPI 'k'"):
        catalog.load("other", tmp_path)


def test_parameters_bind_in_the_headers_order() -> None:
    parameters = KpiParameters.from_options("2019-10-01", "2019-10-31", 5, "18-23", 50)
    assert parameters.bind(catalog.load("brands-to-push")) == ["2019-10-01", "2019-10-31", 50, 5]
    assert parameters.bind(catalog.load("cart-abandonment")) == [
        "2019-10-01",
        "2019-10-31",
        18,
        23,
    ]


def test_no_dates_means_all_the_data() -> None:
    parameters = KpiParameters.from_options()
    assert (parameters.from_date, parameters.to_date) == (ALL_FROM, ALL_TO)
    assert (parameters.hour_from, parameters.hour_to) == (0, 23)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"from_date": "2019-13-01"}, "--from must be a date"),
        ({"to_date": "yesterday"}, "--to must be a date"),
        ({"from_date": "2019-10-02", "to_date": "2019-10-01"}, "is after"),
        ({"top_n": 0}, "--top must be at least 1"),
        ({"min_views": -1}, "--min-views"),
        ({"hours": "evening"}, "--hours must look like"),
        ({"hours": "18-24"}, "within 0-23"),
        ({"hours": "22-2"}, "wraps past midnight"),
    ],
)
def test_bad_options_are_one_line_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(EcommError, match=message):
        KpiParameters.from_options(**options)  # type: ignore[arg-type]


def test_hours_forms() -> None:
    assert parse_hours("18-23") == (18, 23)
    assert parse_hours(" 7 ") == (7, 7)


def test_athena_literals_and_cost() -> None:
    assert athena_literal("2019-10-01") == "'2019-10-01'"
    assert athena_literal("o'brien") == "'o''brien'"
    assert athena_literal(10) == "10"
    with pytest.raises(EcommError):
        athena_literal(None)
    # Billed at least 10 MB; $5 per TB.
    assert query_cost_usd(0) == pytest.approx(10 * 1024**2 / 1024**4 * 5)
    assert query_cost_usd(1024**4) == pytest.approx(5.0)


def test_backoff_grows_then_caps() -> None:
    delays = backoff_delays(first=0.25, factor=2.0, cap=1.0)
    assert [next(delays) for _ in range(5)] == [0.25, 0.5, 1.0, 1.0, 1.0]

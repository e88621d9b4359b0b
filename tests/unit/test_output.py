"""The one renderer: the same data as a Rich table, JSON and CSV; quoting, nesting, empty data."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from rich.console import Console

from ecomm_cli.options import OutputFormat
from ecomm_cli.output import Record, Rows, format_cell, render, terminal_view, to_csv, to_json

pytestmark = pytest.mark.unit

ROWS = Rows(
    "Revenue",
    ("event_date", "revenue", "brand", "user_id"),
    [
        {"event_date": date(2019, 10, 1), "revenue": Decimal("1234.50"), "brand": 'a, "b"',
         "user_id": 512475445},
        {"event_date": date(2019, 10, 2), "revenue": None, "brand": "line\nbreak",
         "user_id": None},
    ],
    verbatim=("user_id",),
)  # fmt: skip


def _terminal(data: Rows | Record) -> str:
    out = Console(file=io.StringIO(), width=120, color_system=None)
    render(data, OutputFormat.table, console=out)
    assert isinstance(out.file, io.StringIO)
    return out.file.getvalue()


def test_rows_as_json_are_a_list_of_objects_in_column_order() -> None:
    answer = json.loads(to_json(ROWS))
    assert answer == [
        {"event_date": "2019-10-01", "revenue": 1234.5, "brand": 'a, "b"', "user_id": 512475445},
        {"event_date": "2019-10-02", "revenue": None, "brand": "line\nbreak", "user_id": None},
    ]
    assert list(answer[0]) == list(ROWS.columns)


def test_rows_as_csv_quote_commas_quotes_and_newlines() -> None:
    text = to_csv(ROWS)
    assert text.splitlines()[0] == "event_date,revenue,brand,user_id"
    assert list(csv.reader(io.StringIO(text))) == [
        ["event_date", "revenue", "brand", "user_id"],
        ["2019-10-01", "1234.5", 'a, "b"', "512475445"],
        ["2019-10-02", "", "line\nbreak", ""],
    ]
    assert '"a, ""b"""' in text


def test_rows_as_a_table_format_numbers_and_keep_ids_verbatim() -> None:
    text = _terminal(ROWS)
    assert "Revenue" in text and "1,234.5" in text and "512475445" in text
    assert "512,475,445" not in text
    assert " - " in text  # NULL


def test_table_columns_narrow_only_the_terminal() -> None:
    narrow = Rows("t", ("a", "samples"), [{"a": 1, "samples": [{"x": 1}]}], table_columns=("a",))
    assert "samples" not in _terminal(narrow)
    assert json.loads(to_json(narrow)) == [{"a": 1, "samples": [{"x": 1}]}]
    assert to_csv(narrow).splitlines() == ["a,samples", '1,"[{""x"": 1}]"']


@pytest.mark.parametrize("output", list(OutputFormat))
def test_empty_rows_render_in_every_format(output: OutputFormat, capsys) -> None:
    empty = Rows("nothing yet", ("a", "b"), [], note="0 rows")
    render(empty, output)
    out = capsys.readouterr().out
    if output is OutputFormat.json:
        assert json.loads(out) == []
    elif output is OutputFormat.jsonl:
        assert out == ""  # no rows, no lines
    elif output is OutputFormat.csv:
        assert out == "a,b\n"
    else:
        assert "nothing yet" in out and "0 rows" in out


def test_a_record_is_an_object_one_csv_line_and_a_two_column_table() -> None:
    record = Record(
        "etl run",
        {"read": 1200, "dates": ["2019-10-01", "2019-10-02"], "ok": True, "seconds": 1.5},
    )
    assert json.loads(to_json(record)) == {
        "read": 1200,
        "dates": ["2019-10-01", "2019-10-02"],
        "ok": True,
        "seconds": 1.5,
    }
    assert to_csv(record).splitlines() == [
        "read,dates,ok,seconds",
        '1200,"[""2019-10-01"", ""2019-10-02""]",true,1.5',
    ]
    text = _terminal(record)
    assert "read" in text and "1,200" in text and "2019-10-01, 2019-10-02" in text
    assert "true" in text


def test_nested_parts_are_keys_in_json_and_named_blocks_in_csv() -> None:
    record = Record(
        "alerts",
        {
            "since": datetime(2019, 10, 1, tzinfo=UTC),
            "offenders": Rows("offenders", ("user_id",), [{"user_id": 7}]),
            "outputs": Record("outputs", {"stream": "events"}),
        },
        note="[red]FIRING[/]: 1 offender",
    )
    assert json.loads(to_json(record)) == {
        "since": "2019-10-01T00:00:00+00:00",
        "offenders": [{"user_id": 7}],
        "outputs": {"stream": "events"},
    }
    assert to_csv(record) == (
        "since\n2019-10-01T00:00:00+00:00\n\n# offenders\nuser_id\n7\n\n# outputs\nstream\nevents\n"
    )
    parts = terminal_view(record)
    assert len(parts) == 4 and parts[-1] == "[red]FIRING[/]: 1 offender"
    text = _terminal(record)
    assert text.index("since") < text.index("offenders") < text.index("outputs")
    assert "FIRING: 1 offender" in text


def test_a_record_of_rows_only_has_no_table_of_its_own() -> None:
    kpis = Record("KPIs", {"a": Rows("A", ("x",), [{"x": 1}]), "b": Rows("B", ("x",), [])})
    assert json.loads(to_json(kpis)) == {"a": [{"x": 1}], "b": []}
    assert to_csv(kpis) == "# a\nx\n1\n\n# b\nx\n"
    assert len(terminal_view(kpis)) == 2


def test_styles_colour_cells_by_value_and_skip_lists() -> None:
    styled = Rows(
        "checks",
        ("status", "rules"),
        [{"status": "fail", "rules": ["flood", "scraper"]}],
        styles={"status": {"fail": "red"}, "rules": {"flood": "red"}},
    )
    text = _terminal(styled)
    assert "fail" in text and "flood, scraper" in text


def test_cells_are_text_not_markup() -> None:
    text = _terminal(Rows("t", ("reason",), [{"reason": "[bold]not markup[/bold]"}]))
    assert "[bold]not markup[/bold]" in text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, "-"),
        (True, "true"),
        (1234567, "1,234,567"),
        (0.666666, "0.6667"),
        (2.0, "2"),
        (Decimal("10.50"), "10.5"),
        (date(2019, 10, 1), "2019-10-01"),
        (["a", "b"], "a, b"),
        ([], "-"),
        ({"k": 1}, '{"k": 1}'),
    ],
)
def test_format_cell(value: object, cell: str) -> None:
    assert format_cell(value) == cell


def test_json_lines_give_one_object_per_row_and_keep_absent_keys_absent() -> None:
    from ecomm_cli.output import to_jsonl

    rows = Rows(
        "alerts",
        ("rule", "user_id", "count"),
        [{"rule": "flood", "user_id": 7, "count": 21}, {"rule": "traffic_spike", "count": 300}],
    )
    lines = to_jsonl(rows).splitlines()
    assert [json.loads(line) for line in lines] == [
        {"rule": "flood", "user_id": 7, "count": 21},
        {"rule": "traffic_spike", "count": 300},  # platform-wide: no user_id, as on the stream
    ]
    assert to_jsonl(Record("r", {"a": 1})) == '{"a":1}\n'

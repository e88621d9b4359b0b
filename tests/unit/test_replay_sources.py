"""Inputs of `ecomm replay`: formats, header detection, quirks of real exports, merge order."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from ecomm_cli.replay import sources

pytestmark = pytest.mark.unit

HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)
ROWS = [
    "2019-10-01 00:00:00 UTC,view,5802432.0,2053013552326770905,,,5.56,512475445,s1",
    "2019-10-01 00:00:02 UTC,cart,1004856,2053013555631882655,electronics.smartphone,samsung,"
    "130.76,543272936,s2",
    "2019-10-01 00:00:05 UTC,purchase,1004856,2.05301355563188E+18,,samsung,130.76,543272936,s2",
]


def rows_of(path: Path, **kwargs: object) -> list[sources.SourceRow]:
    resolved = sources.resolve([str(path)])
    return list(sources.merged_rows(resolved, **kwargs))  # type: ignore[arg-type]


def events(rows: list[sources.SourceRow]) -> list[dict[str, object]]:
    return [r.parsed.event for r in rows if r.parsed.event is not None]


def test_crlf_header_and_quirks(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode())
    rows = rows_of(path)
    assert [r.line for r in rows] == [2, 3, 4]
    got = events(rows)
    assert [e["product_id"] for e in got] == [5802432, 1004856, 1004856]
    assert got[0]["category_code"] is None and got[0]["brand"] is None
    assert got[2]["category_id"] is None and rows[2].parsed.warning is not None
    assert got[1]["user_session"] == "s2"  # no stray \r


def test_header_less_file_is_detected_and_no_header_forces_it(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("\n".join(ROWS) + "\n")
    assert len(events(rows_of(path))) == 3
    assert len(events(rows_of(path, no_header=True))) == 3


def test_leading_unnamed_index_column_with_and_without_header(tmp_path: Path) -> None:
    with_header = tmp_path / "indexed.csv"
    with_header.write_text("\n".join(["," + HEADER] + [f"{i},{r}" for i, r in enumerate(ROWS)]))
    assert [e["user_id"] for e in events(rows_of(with_header))] == [512475445, 543272936] * 1 + [
        543272936
    ]
    headerless = tmp_path / "indexed-headerless.csv"
    headerless.write_text("\n".join(f"{i},{r}" for i, r in enumerate(ROWS)) + "\n")
    assert len(events(rows_of(headerless))) == 3


def test_truncated_last_line_is_rejected_but_a_complete_one_without_newline_is_fine(
    tmp_path: Path,
) -> None:
    complete = tmp_path / "complete.csv"
    complete.write_text("\n".join([HEADER, *ROWS]))  # no final newline
    assert len(events(rows_of(complete))) == 3
    truncated = tmp_path / "truncated.csv"
    truncated.write_text("\n".join([HEADER, *ROWS, ROWS[0][:40]]))
    rows = rows_of(truncated)
    assert len(events(rows)) == 3
    assert rows[-1].parsed.event is None and rows[-1].line == 5
    assert "expected 9 fields" in (rows[-1].parsed.reason or "")


def test_gzip_and_zip_are_read_streamed(tmp_path: Path) -> None:
    text = "\n".join([HEADER, *ROWS]) + "\n"
    gz = tmp_path / "events.csv.gz"
    gz.write_bytes(gzip.compress(text.encode()))
    assert len(events(rows_of(gz))) == 3
    archive = tmp_path / "events.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("2019-Oct.csv", text)
        z.writestr("__MACOSX/._2019-Oct.csv", "junk")
    resolved = sources.resolve([str(archive)])
    assert [s.member for s in resolved] == ["2019-Oct.csv"]
    assert len(events(list(sources.merged_rows(resolved)))) == 3


def test_several_files_merge_in_event_time_order(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("\n".join([HEADER, ROWS[0], ROWS[2]]) + "\n")
    (tmp_path / "b.csv").write_text("\n".join([HEADER, ROWS[1]]) + "\n")
    resolved = sources.resolve([str(tmp_path / "*.csv")])
    times = [e["event_time"] for e in events(list(sources.merged_rows(resolved)))]
    assert times == sorted(times) and len(times) == 3


def test_unreadable_inputs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(sources.SourceError, match="no file matches"):
        sources.resolve([str(tmp_path / "*.csv")])
    with pytest.raises(sources.SourceError, match="does not exist"):
        sources.resolve([str(tmp_path / "missing.csv")])
    with pytest.raises(sources.SourceError, match="is not a file"):
        sources.resolve([str(tmp_path)])
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(sources.SourceError, match="first row has 3 fields"):
        rows_of(odd)
    partial = tmp_path / "partial.csv"
    partial.write_text("event_time,event_type\n")
    with pytest.raises(sources.SourceError, match="lacks column"):
        rows_of(partial)
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_text("not a zip")
    with pytest.raises(sources.SourceError, match="not a readable zip"):
        sources.resolve([str(bad_zip)])


def test_read_progress_follows_the_bytes_read(tmp_path: Path) -> None:
    plain = tmp_path / "a.csv"
    plain.write_text("\n".join([HEADER, *(ROWS * 3000)]) + "\n")
    packed = tmp_path / "b.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    resolved = sources.resolve([str(plain), str(packed)])
    progress = sources.ReadProgress(resolved)
    assert progress.total == plain.stat().st_size + packed.stat().st_size
    seen = []
    for n, _row in enumerate(sources.merged_rows(resolved, progress=progress)):
        if n % 2000 == 0:
            seen.append(progress.fraction())
    assert progress.fraction() == 1.0
    assert seen == sorted(seen) and 0 < seen[1] < 1  # type: ignore[type-var]


def test_read_progress_is_unknown_without_sizes() -> None:
    progress = sources.ReadProgress([sources.Source("s3://b/k", None)])
    assert progress.fraction() is None

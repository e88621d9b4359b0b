"""The one reader of REES46 files, for `ecomm replay` and `ecomm detect`: local CSV, .csv.gz,
.zip, and s3:// objects, streamed, each row through the event contract.

Each input becomes a `Source` that yields `SourceRow`s (the parsed row, its line number and
its file). Several sources are merged into one stream in event-time order with a k-way merge,
which assumes each file is itself in event-time order, as REES46 exports are; a row out of
order within a file is still sent, just not reordered.

Nothing is lost silently (docs/replay.md, "Bad input"):

- text is UTF-8, a leading BOM skipped; a byte that is not UTF-8 rejects its row, with its line
  number and the field that holds it (the contract's reason), never a guessed encoding;
- a row the csv module cannot split (a field over its limit, a stray quote) is rejected with
  its line number, and reading goes on with the next line;
- an input whose rest cannot be read (a truncated .gz, a corrupt zip member, a read error) stops
  being read where it breaks; that is an `UnreadRest` (how far it got, what is left), which the
  caller reports and fails the run on; without a place to put it, `SourceError` is raised;
- an empty input (not even a header) is a `SourceError`.
"""

from __future__ import annotations

import csv
import fnmatch
import glob
import gzip
import heapq
import io
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any, NamedTuple, cast

from ecomm_cli import contract

# What breaks reading an input's rest: a truncated or corrupt .gz or zip member, an I/O error.
_UNREADABLE = (OSError, EOFError, zipfile.BadZipFile, zlib.error)


class SourceError(Exception):
    """An input cannot be opened or its columns cannot be recognised (a one-line message)."""


class UnreadRest(NamedTuple):
    """Where an input stopped being readable: the lines read before it, and its bytes as
    stored read so far out of its size (None where unknown)."""

    source: str
    lines_read: int
    bytes_read: int | None
    size: int | None
    reason: str

    def message(self) -> str:
        """One line: which input, how far it was read, how much was not, and why."""
        where = f"{self.source}: unreadable after line {self.lines_read:,}"
        if self.bytes_read is not None and self.size is not None:
            unread = self.size - self.bytes_read
            if unread > 0:
                where += f" ({unread:,} of {self.size:,} bytes not read)"
            else:  # a truncated .gz: every byte was read, the data just stops
                where += f" (all {self.size:,} bytes read, the rest of the data is missing)"
        return f"{where}: {self.reason}"


class SourceRow(NamedTuple):
    """One row of one input, parsed; rejected rows carry the epoch of the row before them."""

    epoch: float
    source_index: int
    line: int
    parsed: contract.Parsed
    raw: list[str]


@dataclass(frozen=True)
class Source:
    """One input: a local path or an `s3://bucket/key` URL (optionally a member of a zip)."""

    location: str
    size: int | None = None
    member: str | None = None

    @property
    def name(self) -> str:
        return f"{self.location}!{self.member}" if self.member else self.location


class ReadProgress:
    """How far through its inputs a replay is, in bytes as stored (compressed bytes for .gz),
    for the progress bar's ETA; `fraction()` is None when a size is unknown."""

    def __init__(self, sources: list[Source]):
        sizes = [s.size for s in sources]
        self.total: int | None = None if None in sizes else sum(s or 0 for s in sizes)
        self._positions: dict[int, Callable[[], int]] = {}
        self._finished: dict[int, int] = {}

    def track(self, index: int, position: Callable[[], int] | None) -> None:
        if position is None:
            self.total = None
        else:
            self._positions[index] = position

    def finish(self, index: int, size: int | None) -> None:
        self._positions.pop(index, None)
        self._finished[index] = size or 0

    def fraction(self) -> float | None:
        if not self.total:
            return None
        done = sum(self._finished.values())
        for position in list(self._positions.values()):
            try:
                done += position()
            except (OSError, ValueError):  # a stream closed under us: count nothing
                continue
        return min(1.0, done / self.total)


class _BodyReader(io.RawIOBase):
    """A readable raw stream over a botocore StreamingBody, so that it can be read in chunks."""

    def __init__(self, body: Any):
        self._body = body
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self.consumed += len(data)
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


def _split_s3(url: str) -> tuple[str, str]:
    bucket, _, key = url[len("s3://") :].partition("/")
    if not bucket or not key:
        raise SourceError(f"{url} is not an s3://bucket/key URL")
    return bucket, key


def resolve(patterns: list[str], s3_client: Callable[[], Any] | None = None) -> list[Source]:
    """Expand local globs and s3 prefix globs into sources; zips give one source per CSV member.

    Raises `SourceError` when a pattern matches nothing, so a typo never replays zero rows.
    """
    sources: list[Source] = []
    for pattern in patterns:
        if pattern.startswith("s3://"):
            sources.extend(_resolve_s3(pattern, s3_client))
            continue
        paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not paths:
            raise SourceError(f"no file matches {pattern}")
        for path in paths:
            if not os.path.exists(path):
                raise SourceError(f"{path} does not exist")
            if not os.path.isfile(path):
                raise SourceError(f"{path} is not a file (a directory?): name the files in it")
            if path.lower().endswith(".zip"):
                sources.extend(_zip_members(path))
            else:
                sources.append(Source(path, os.path.getsize(path)))
    return sources


def _zip_members(path: str) -> list[Source]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and info.filename.lower().endswith(".csv")
                and not info.filename.startswith("__MACOSX/")
            ]
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{path} is not a readable zip ({exc})") from None
    if not members:
        raise SourceError(f"{path} holds no .csv file")
    return [Source(path, info.file_size, info.filename) for info in members]


def _resolve_s3(pattern: str, s3_client: Callable[[], Any] | None) -> list[Source]:
    if s3_client is None:
        raise SourceError("s3:// inputs need AWS access")
    bucket, key = _split_s3(pattern)
    client = s3_client()
    if not glob.has_magic(key):
        try:
            head = client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            raise SourceError(f"cannot read {pattern}: {exc}") from None
        return [Source(pattern, int(head["ContentLength"]))]
    prefix = key[: min(key.find(c) for c in "*?[" if c in key)]
    found: list[Source] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if fnmatch.fnmatchcase(item["Key"], key):
                found.append(Source(f"s3://{bucket}/{item['Key']}", int(item["Size"])))
    if not found:
        raise SourceError(f"no object matches {pattern}")
    return sorted(found, key=lambda s: s.location)


def open_text(
    source: Source, stack: ExitStack, s3_client: Callable[[], Any] | None
) -> tuple[IO[str], Callable[[], int] | None]:
    """Open a source as text, decompressing on the fly; nothing is downloaded whole except a
    zip stored in S3 (a zip's index sits at its end, so it is spooled to a temporary file).

    Also returns how many bytes of `source.size` have been read so far (None if unknown).
    """
    location = source.location
    binary: IO[bytes]
    position: Callable[[], int] | None = None
    if location.startswith("s3://"):
        if s3_client is None:
            raise SourceError("s3:// inputs need AWS access")
        bucket, key = _split_s3(location)
        body = s3_client().get_object(Bucket=bucket, Key=key)["Body"]
        body_reader = _BodyReader(body)
        raw = stack.enter_context(io.BufferedReader(body_reader, 1 << 20))
        if source.member:
            spool = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed by stack)
            shutil.copyfileobj(raw, spool, 1 << 20)
            spool.seek(0)
            archive = stack.enter_context(zipfile.ZipFile(spool))
            binary = stack.enter_context(archive.open(source.member))
        else:
            binary = raw
            position = lambda: body_reader.consumed  # noqa: E731
    elif source.member:
        archive = stack.enter_context(zipfile.ZipFile(location))
        binary = stack.enter_context(archive.open(source.member))
        position = binary.tell  # uncompressed, as the member's size is
    else:
        try:
            binary = stack.enter_context(open(location, "rb"))  # noqa: SIM115 (closed by stack)
        except OSError as exc:
            raise SourceError(f"cannot open {location}: {exc.strerror}") from None
        position = binary.tell  # compressed bytes for a .gz, as the file's size is
    name = (source.member or location).lower()
    if name.endswith(".gz"):
        binary = cast(IO[bytes], stack.enter_context(gzip.GzipFile(fileobj=binary)))
    # newline="" lets the csv module handle CRLF and quoted newlines itself; utf-8-sig skips
    # a BOM; surrogateescape carries a byte that is not UTF-8 to the contract, which rejects
    # its row (a replacement character would change the data without a word).
    text = stack.enter_context(
        io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    )
    return text, position


def read_rows(
    source: Source,
    source_index: int,
    *,
    no_header: bool = False,
    s3_client: Callable[[], Any] | None = None,
    progress: ReadProgress | None = None,
    unread: list[UnreadRest] | None = None,
) -> Iterator[SourceRow]:
    """Parse one source row by row. The header is detected (a first row naming `event_time`);
    a header-less file's layout is guessed from its first row (`no_header` skips detection).

    Where the source's rest cannot be read, reading stops there and an `UnreadRest` goes to
    `unread`; without `unread`, `SourceError` is raised instead."""
    with ExitStack() as stack:
        text, position = open_text(source, stack, s3_client)
        if progress is not None:
            progress.track(source_index, position)
            stack.callback(progress.finish, source_index, source.size)
        reader = csv.reader(text)
        layout: contract.Layout | None = None
        epoch = 0.0
        parse_row = contract.parse_row
        while True:
            before = reader.line_num
            try:
                fields = next(reader)
            except StopIteration:
                if reader.line_num == 0:
                    raise SourceError(f"{source.name} is empty (no header, no rows)") from None
                return
            except csv.Error as exc:
                # A field over the csv module's limit, a stray quote: this row is rejected;
                # the reader starts afresh on the next line.
                reason = f"unreadable CSV row: {exc}"
                yield from _rejected_lines(
                    epoch, source_index, before + 1, reader.line_num, reason, []
                )
                continue
            except _UNREADABLE as exc:
                rest = UnreadRest(
                    source.name, reader.line_num, _tell(position), source.size, _why(exc)
                )
                if unread is None:
                    raise SourceError(rest.message()) from None
                unread.append(rest)
                return
            if not fields:
                continue  # a blank line is not a row
            if layout is None:
                layout = _detect_layout(fields, no_header, source)
                if not no_header and contract.is_header(fields):
                    continue
            parsed = parse_row(fields, layout)
            if parsed.event is not None:
                epoch = parsed.epoch
            elif reader.line_num > before + 1:
                reason = parsed.reason or "rejected"
                yield from _rejected_lines(
                    epoch, source_index, before + 1, reader.line_num, reason, fields
                )
                continue
            yield SourceRow(epoch, source_index, reader.line_num, parsed, fields)


def _rejected_lines(
    epoch: float, source_index: int, first: int, last: int, reason: str, fields: list[str]
) -> Iterator[SourceRow]:
    """A rejected row; when it spans lines `first` to `last` (a quote left open joined them),
    one rejection per line, so that every line of the file is counted, none lost in one row."""
    if last <= first:
        yield SourceRow(epoch, source_index, last, _rejected(reason), fields)
        return
    joined = f"{reason} (a quote left open on line {first:,} joined lines {first:,}-{last:,})"
    for line in range(first, last + 1):
        yield SourceRow(
            epoch, source_index, line, _rejected(joined), fields if line == first else []
        )


def _rejected(reason: str) -> contract.Parsed:
    return contract.Parsed(None, reason, None, 0.0)


def _tell(position: Callable[[], int] | None) -> int | None:
    try:
        return position() if position is not None else None
    except (OSError, ValueError):
        return None


def _why(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return f"the compressed data ends early ({exc})"
    return f"{type(exc).__name__}: {exc}"


def printable_fields(fields: list[str]) -> list[str]:
    """Fields as text that can be written anywhere: a byte that was not UTF-8 as `\\xNN`."""
    return [
        f
        if f.isascii()
        else f.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        for f in fields
    ]


def _detect_layout(fields: list[str], no_header: bool, source: Source) -> contract.Layout:
    if not no_header and contract.is_header(fields):
        try:
            return contract.layout_from_header(fields)
        except contract.RowError as exc:
            raise SourceError(f"{source.name}: {exc}") from None
    layout = contract.layout_from_data(fields)
    if layout is None:
        raise SourceError(
            f"{source.name}: first row has {len(fields)} fields and no header; "
            f"expected the 9 REES46 columns ({', '.join(contract.COLUMNS)})"
        )
    return layout


def merged_rows(
    sources: list[Source],
    *,
    no_header: bool = False,
    s3_client: Callable[[], Any] | None = None,
    progress: ReadProgress | None = None,
    unread: list[UnreadRest] | None = None,
) -> Iterator[SourceRow]:
    """All rows of all sources in event-time order (a k-way merge of the sources; ties keep
    the order of the sources on the command line); unreadable rests go to `unread`."""
    streams = [
        read_rows(
            source,
            index,
            no_header=no_header,
            s3_client=s3_client,
            progress=progress,
            unread=unread,
        )
        for index, source in enumerate(sources)
    ]
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=_merge_key)


def _merge_key(row: SourceRow) -> tuple[float, int]:
    return row.epoch, row.source_index

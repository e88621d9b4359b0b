"""Firehose S3 prefix expressions, evaluated as Firehose evaluates them.

The prefixes come from Terraform (the ingest module's outputs), so the local lake has exactly
the key layout the real Firehose writes: `!{timestamp:<Java pattern>}` is the record's arrival
time in UTC, `!{firehose:error-output-type}` the kind of failure, `!{firehose:random-string}`
an 11-character random string.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime

_EXPRESSION = re.compile(r"!\{(timestamp|firehose):([^}]*)\}")
# Java DateTimeFormatter letters Firehose users write, longest first, with strftime twins.
_JAVA_TO_STRFTIME = [
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("yy", "%y"),
]


class PrefixError(ValueError):
    """A prefix expression Firehose would reject."""


def java_pattern_to_strftime(pattern: str) -> str:
    """Translate the DateTimeFormatter subset Firehose prefixes use (yyyy MM dd HH mm ss)."""
    out, i = [], 0
    while i < len(pattern):
        for java, py in _JAVA_TO_STRFTIME:
            if pattern.startswith(java, i):
                out.append(py)
                i += len(java)
                break
        else:
            char = pattern[i]
            if char in string.ascii_letters:
                raise PrefixError(f"unsupported timestamp pattern letter {char!r} in {pattern!r}")
            out.append("%%" if char == "%" else char)
            i += 1
    return "".join(out)


def render(prefix: str, arrival: datetime, *, error_output_type: str | None = None) -> str:
    """The S3 key prefix for a record that arrived at `arrival` (UTC)."""
    arrival = arrival.astimezone(UTC)

    def substitute(match: re.Match[str]) -> str:
        namespace, argument = match.group(1), match.group(2)
        if namespace == "timestamp":
            return arrival.strftime(java_pattern_to_strftime(argument))
        if argument == "error-output-type":
            if error_output_type is None:
                raise PrefixError("!{firehose:error-output-type} is only valid in an error prefix")
            return error_output_type
        if argument == "random-string":
            return "".join(
                secrets.choice(string.ascii_lowercase + string.digits) for _ in range(11)
            )
        raise PrefixError(f"unknown Firehose expression !{{firehose:{argument}}}")

    return _EXPRESSION.sub(substitute, prefix)

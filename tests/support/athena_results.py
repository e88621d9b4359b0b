"""Queue the result set the emulator's Athena returns next (it runs no SQL): as Athena returns
it, every value as text and the header as the first row, through moto's own API."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence
from typing import Any


def result_set(
    columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str | None]]
) -> dict[str, Any]:
    """One result in the shape moto's static results API takes."""

    def row(values: Sequence[str | None]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    return {
        "rows": [row([name for name, _ in columns]), *(row(r) for r in rows)],
        "column_info": [{"Name": n, "Type": t, "Label": n} for n, t in columns],
    }


def queue_result(
    endpoint: str,
    region: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[str | None]],
    account_id: str | None = None,
) -> None:
    """POST the result to a moto server's `/moto-api/static/athena/query-results`."""
    payload: dict[str, Any] = {"region": region, "results": [result_set(columns, rows)]}
    if account_id:
        payload["account_id"] = account_id
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/athena/query-results",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request).close()

"""Every page of ListShards, for the replay and the local consumers."""

from __future__ import annotations

from typing import Any

import pytest

from ecomm_cli.kinesis_shards import list_shards

pytestmark = pytest.mark.unit


class PagedStream:
    """Answers ListShards two shards a page, as Kinesis pages a stream with many shards."""

    def __init__(self, n: int):
        self.shards = [{"ShardId": f"shardId-{i:012d}"} for i in range(n)]
        self.calls: list[dict[str, Any]] = []

    def list_shards(self, **args: Any) -> dict[str, Any]:
        self.calls.append(args)
        start = int(args.get("NextToken", 0))
        page: dict[str, Any] = {"Shards": self.shards[start : start + 2]}
        if start + 2 < len(self.shards):
            page["NextToken"] = str(start + 2)
        return page


def test_every_page_is_read_and_follow_ups_name_only_the_token() -> None:
    stream = PagedStream(5)
    assert [s["ShardId"] for s in list_shards(stream, "events")] == [
        s["ShardId"] for s in stream.shards
    ]
    assert stream.calls == [{"StreamName": "events"}, {"NextToken": "2"}, {"NextToken": "4"}]

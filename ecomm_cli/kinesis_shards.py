"""The shards of a Kinesis stream: every page of ListShards (a stream lists at most 1,000 shards
a page, the emulator 100). Shared by the replay, which routes by hash range, and the local
consumers, which read every shard."""

from __future__ import annotations

from typing import Any


def list_shards(kinesis: Any, stream_name: str) -> list[dict[str, Any]]:
    """Every shard of `stream_name`, as ListShards describes them; `kinesis` is a boto3 client."""
    shards: list[dict[str, Any]] = []
    args: dict[str, Any] = {"StreamName": stream_name}
    while True:
        page = kinesis.list_shards(**args)
        shards += page["Shards"]
        token = page.get("NextToken")
        if not token:
            return shards
        # A follow-up page names the listing by its token alone (StreamName is refused).
        args = {"NextToken": token}

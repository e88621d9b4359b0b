"""`ecomm replay`: historic REES46 events into the Kinesis `events` stream.

sources (files, s3) -> contract (parse, validate) -> pacing -> encode -> batching -> sender,
with every row accounted for in the ledger (sent, rejected or dead-lettered) and a checkpoint
for `--resume`. `runner.replay()` wires them together; the CLI command only renders.
"""

"""Synthetic REES46-shaped clickstream with labelled bots (`ecomm sample generate`)."""

from ecomm_cli.sample.bots import BotKind, BotLabel
from ecomm_cli.sample.generator import (
    SampleError,
    SampleResult,
    SampleSpec,
    generate_sample,
    parse_bots,
    write_sample,
)

__all__ = [
    "BotKind",
    "BotLabel",
    "SampleError",
    "SampleResult",
    "SampleSpec",
    "generate_sample",
    "parse_bots",
    "write_sample",
]

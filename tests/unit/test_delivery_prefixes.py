from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecomm_cli.delivery.prefixes import PrefixError, java_pattern_to_strftime, render

pytestmark = pytest.mark.unit
ARRIVAL = datetime(2019, 10, 1, 7, 5, 9, tzinfo=UTC)


def test_partitioned_prefix_uses_arrival_time_in_utc() -> None:
    prefix = "raw/events/ingest_date=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/"
    assert render(prefix, ARRIVAL) == "raw/events/ingest_date=2019-10-01/hour=07/"


def test_error_prefix_names_the_failure_kind() -> None:
    prefix = "raw/errors/!{firehose:error-output-type}/ingest_date=!{timestamp:yyyy-MM-dd}/"
    assert render(prefix, ARRIVAL, error_output_type="processing-failed") == (
        "raw/errors/processing-failed/ingest_date=2019-10-01/"
    )
    with pytest.raises(PrefixError):
        render(prefix, ARRIVAL)


def test_unsupported_pattern_letters_are_refused() -> None:
    assert java_pattern_to_strftime("yyyy/MM/dd/HH:mm:ss") == "%Y/%m/%d/%H:%M:%S"
    with pytest.raises(PrefixError, match="'E'"):
        java_pattern_to_strftime("EEE")

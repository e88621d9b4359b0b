"""`ecomm sample generate`: REES46-shaped synthetic traffic with labelled bots."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ecomm_cli.console import console, fail
from ecomm_cli.sample import SampleError, SampleSpec, parse_bots, write_sample

app = typer.Typer(help="Synthetic REES46-shaped clickstream for demos, tests and benchmarks.")


@app.callback()
def _group() -> None:
    """Synthetic REES46-shaped clickstream for demos, tests and benchmarks."""


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")],
    rows: Annotated[
        int, typer.Option("--rows", "-n", help="Rows in total, bots included.")
    ] = 200_000,
    days: Annotated[int, typer.Option("--days", help="Days of traffic from --start.")] = 1,
    seed: Annotated[
        int, typer.Option("--seed", envvar="ECOMM_SAMPLE_SEED", help="Same seed, same bytes.")
    ] = 0,
    start: Annotated[
        str, typer.Option("--start", help="First day (YYYY-MM-DD, UTC).")
    ] = "2019-10-01",
    bots: Annotated[
        str,
        typer.Option(
            "--bots",
            help="Bots to inject: KIND=COUNT,... (flood, scraper, cart_stuffer, session_cycler).",
        ),
    ] = "",
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="Write the bots' ground truth here (CSV)."),
    ] = None,
) -> None:
    """Write REES46-shaped events sorted by event_time, with labelled bots if asked."""
    try:
        first_day = date.fromisoformat(start)
        spec = SampleSpec(rows=rows, days=days, seed=seed, start=first_day, bots=parse_bots(bots))
    except SampleError as exc:
        fail(str(exc), "see `ecomm sample generate --help`")
    except ValueError:
        fail(f"--start {start!r} is not a date", "use YYYY-MM-DD, e.g. 2019-10-01")
    began = time.perf_counter()
    try:
        result = write_sample(spec, out, labels)
    except SampleError as exc:
        fail(str(exc), "raise --rows or inject fewer bots")
    except OSError as exc:
        fail(f"cannot write {exc.filename or out}: {exc.strerror}", "check the path")
    seconds = time.perf_counter() - began
    console.print(
        f"wrote {result.rows:,} rows ({result.bot_rows:,} from {len(result.labels)} bots) "
        f"to {out} in {seconds:.1f} s" + (f"; labels in {labels}" if labels is not None else ""),
        highlight=False,
    )

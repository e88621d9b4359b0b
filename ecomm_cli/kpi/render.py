"""KPI results computed elsewhere as renderer data (ecomm_cli.output), and the run notes."""

from __future__ import annotations

from collections.abc import Sequence

from ecomm_cli.kpi import catalog
from ecomm_cli.kpi.result import KpiResult
from ecomm_cli.output import Output, Record, Rows


def kpi_rows(result: KpiResult, title: str | None = None) -> Rows:
    """One KPI's rows in its columns' order, titled as the catalog titles it."""
    return Rows(
        title or catalog.titles().get(result.name, result.name), result.columns, result.rows
    )


def kpi_output(results: Sequence[KpiResult], single: bool) -> Output:
    """One KPI: its rows (JSON: a list of row objects). Several: a record of them by KPI name
    (JSON: an object of row lists; CSV: one block per KPI after a `# <kpi>` line)."""
    if single:
        return kpi_rows(results[0])
    titles = catalog.titles()
    return Record("KPIs", {r.name: kpi_rows(r, titles.get(r.name)) for r in results})


def run_summary(result: KpiResult) -> str:
    """One line on how the KPI ran (engine, time; data scanned and cost on Athena)."""
    text = f"{result.name}: {len(result.rows):,} rows on {result.engine} in {result.seconds:.2f} s"
    if result.data_scanned_bytes is not None:
        text += f", scanned {result.data_scanned_bytes / 1024**2:,.1f} MiB"
    if result.cost_usd is not None:
        text += f", cost ${result.cost_usd:.6f}"
    return text

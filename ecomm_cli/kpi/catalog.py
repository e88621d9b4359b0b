"""The KPI catalog: one Athena (Trino) SQL file per KPI in sql/kpi/, loaded by name.

Each file starts with a header comment the loader reads:
    -- kpi: <name>                      (must match the file name)
    -- title: <one line>
    -- parameters: a, b, c              (the `?` placeholders, in order of appearance)
    -- columns: x, y, z                 (the output columns, in order)
Other comment lines are the KPI's description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ecomm_cli.errors import EcommError
from ecomm_cli.settings import PROJECT_ROOT

KPI_DIR = PROJECT_ROOT / "sql" / "kpi"
_HEADER_KEY = re.compile(r"^--\s*(kpi|title|parameters|columns):\s*(.*?)\s*$")


@dataclass(frozen=True)
class KpiQuery:
    """One KPI: its Trino SQL with `?` placeholders and what its header declares."""

    name: str
    title: str
    description: str
    parameters: tuple[str, ...]
    columns: tuple[str, ...]
    sql: str
    path: Path


def names(kpi_dir: Path = KPI_DIR) -> list[str]:
    """Names of the KPIs available, sorted."""
    return sorted(p.stem for p in kpi_dir.glob("*.sql"))


def titles(kpi_dir: Path = KPI_DIR) -> dict[str, str]:
    """Each KPI's title from its header alone (cheap: for help texts, no SQL parsing)."""
    found: dict[str, str] = {}
    for path in sorted(kpi_dir.glob("*.sql")):
        with path.open(encoding="utf-8") as sql_file:
            for line in sql_file:
                if not line.startswith("--"):
                    break
                match = _HEADER_KEY.match(line)
                if match and match.group(1) == "title":
                    found[path.stem] = match.group(2)
        found.setdefault(path.stem, path.stem)
    return found


def load(name: str, kpi_dir: Path = KPI_DIR) -> KpiQuery:
    """The KPI `name` (file `<name>.sql`); an unknown name is an EcommError listing the known."""
    path = kpi_dir / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9-]+", name) or not path.is_file():
        raise EcommError(
            f"unknown KPI {name!r}", hint=f"known: {', '.join(names(kpi_dir)) or 'none'}"
        )
    return parse(path.read_text(encoding="utf-8"), path)


def parse(text: str, path: Path) -> KpiQuery:
    """Read the header of a KPI file and check it against the SQL it describes."""
    header: dict[str, str] = {}
    description: list[str] = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if match := _HEADER_KEY.match(line):
            header[match.group(1)] = match.group(2)
        else:
            description.append(line[2:].strip())
    missing = [k for k in ("kpi", "title", "parameters", "columns") if k not in header]
    if missing:
        raise EcommError(f"{path.name}: header lacks {', '.join(missing)}")
    if header["kpi"] != path.stem:
        raise EcommError(f"{path.name}: header names KPI {header['kpi']!r}, not {path.stem!r}")
    query = KpiQuery(
        name=path.stem,
        title=header["title"],
        description=" ".join(d for d in description if d),
        parameters=_split(header["parameters"]),
        columns=_split(header["columns"]),
        sql=text,
        path=path,
    )
    _check_against_sql(query)
    return query


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _check_against_sql(query: KpiQuery) -> None:
    """The header must tell the truth: as many placeholders as parameters, the same columns."""
    import sqlglot  # here, not at module level: help texts read titles without it
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(query.sql, read="trino")
    except sqlglot.errors.ParseError as exc:
        raise EcommError(f"{query.path.name}: not valid Trino SQL: {exc}") from exc
    placeholders = len(list(tree.find_all(exp.Placeholder)))
    if placeholders != len(query.parameters):
        raise EcommError(
            f"{query.path.name}: {placeholders} placeholders for "
            f"{len(query.parameters)} declared parameters"
        )
    if not isinstance(tree, exp.Query):
        raise EcommError(f"{query.path.name}: a KPI must be one SELECT query")
    columns = tuple(tree.named_selects)
    if columns != query.columns:
        raise EcommError(
            f"{query.path.name}: header columns {list(query.columns)} but the query "
            f"returns {list(columns)}"
        )

"""The rules manifest (sql/realtime/rules.json): every rule's kind, window, thresholds and
baseline, and the settings they share, read and validated once.

Terraform (modules/realtime) and the Flink application (flink/main.py) read the same file; the
local detector's `Thresholds` and rule engines are built from it, and `markdown_table()` writes
the tables in docs/realtime.md and the realtime module's README (a test keeps them in step).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ecomm_cli.settings import PROJECT_ROOT

MANIFEST_PATH = PROJECT_ROOT / "sql" / "realtime" / "rules.json"
RULE_KINDS = ("per_user", "platform")
# Tumbling: back to back, `size` long. Hopping: `size` long, one starting every `slide` (size a
# multiple of slide), so an event falls in size / slide windows (Flink's HOP).
WINDOW_TYPES = ("tumbling", "hopping")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ManifestError(ValueError):
    """The manifest is malformed; the message names the entry and what is wrong."""


@dataclass(frozen=True)
class Parameter:
    """A tunable number: a rule's window, threshold or baseline setting, or a shared setting."""

    name: str
    value: int | float
    minimum: int | float
    maximum: int | float
    integer: bool
    description: str
    role: str = "setting"
    used_by: tuple[str, ...] = ()

    def check(self, value: float) -> int | float:
        """`value` as this parameter's type, or ValueError naming the bound it breaks."""
        if self.integer and float(value) != int(value):
            raise ValueError(f"{self.name} must be a whole number, got {value}")
        typed: int | float = int(value) if self.integer else float(value)
        if not self.minimum <= typed <= self.maximum:
            raise ValueError(
                f"{self.name} must be between {self.minimum} and {self.maximum}, got {value}"
            )
        return typed


@dataclass(frozen=True)
class Rule:
    """One rule: what it watches (`kind`), over which window, with which parameters."""

    name: str
    kind: str
    sql: str
    description: str
    window_type: str
    window_size: str  # the parameter holding the window length in seconds
    parameters: tuple[Parameter, ...]
    window_slide: str | None = None  # hopping windows: the parameter holding the slide
    baseline: tuple[tuple[str, str], ...] = ()  # (setting, parameter name)
    # How long an offender of this rule stays blocked (0: alert only); read by the Lambda.
    block: Parameter | None = None
    # The bot behaviour the rule catches, shared by a short rule and its sustained counterpart
    # (None for platform-wide rules): the evaluation scores recall per family.
    family: str | None = None

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)


@dataclass(frozen=True)
class Manifest:
    rules: tuple[Rule, ...]
    settings: tuple[Parameter, ...]
    path: Path

    @property
    def rule_names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    def rule(self, name: str) -> Rule:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def setting(self, name: str) -> Parameter:
        for setting in self.settings:
            if setting.name == name:
                return setting
        raise KeyError(name)

    def rule_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for rule in self.rules for p in rule.parameters)

    def families(self) -> dict[str, tuple[str, ...]]:
        """family -> the rules that catch it, in the manifest's order."""
        found: dict[str, tuple[str, ...]] = {}
        for rule in self.rules:
            if rule.family is not None:
                found[rule.family] = (*found.get(rule.family, ()), rule.name)
        return found

    def parameters_for(self, user: str) -> tuple[Parameter, ...]:
        """Every rule parameter and the settings `user` (detector, flink, lambda) reads."""
        return (*self.rule_parameters(), *(s for s in self.settings if user in s.used_by))


def _number(entry: dict[str, Any], key: str, where: str) -> int | float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ManifestError(f"{where}: {key} must be a number, got {value!r}")
    return value


def _parameter(name: str, entry: Any, where: str, role: str = "setting") -> Parameter:
    if not _NAME.match(name):
        raise ManifestError(f"{where}: parameter name {name!r} is not a lowercase identifier")
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}.{name}: must be an object")
    integer = entry.get("integer")
    if not isinstance(integer, bool):
        raise ManifestError(f"{where}.{name}: integer must be true or false")
    parameter = Parameter(
        name=name,
        value=_number(entry, "value", f"{where}.{name}"),
        minimum=_number(entry, "min", f"{where}.{name}"),
        maximum=_number(entry, "max", f"{where}.{name}"),
        integer=integer,
        description=str(entry.get("description", "")).strip(),
        role=str(entry.get("role", role)),
        used_by=tuple(str(u) for u in entry.get("used_by", ())),
    )
    if not parameter.description:
        raise ManifestError(f"{where}.{name}: needs a description")
    if parameter.minimum > parameter.maximum:
        raise ManifestError(f"{where}.{name}: min is above max")
    try:
        parameter.check(parameter.value)
    except ValueError as exc:
        raise ManifestError(f"{where}: default {exc}") from None
    return parameter


def _rule(name: str, entry: Any, sql_dir: Path) -> Rule:
    where = f"rules.{name}"
    if not _NAME.match(name) or not isinstance(entry, dict):
        raise ManifestError(f"{where}: a rule is a lowercase name and an object")
    kind = entry.get("kind")
    if kind not in RULE_KINDS:
        raise ManifestError(f"{where}: kind must be one of {', '.join(RULE_KINDS)}, got {kind!r}")
    parameters = tuple(
        _parameter(p, e, f"{where}.parameters", role="threshold")
        for p, e in dict(entry.get("parameters") or {}).items()
    )
    names = {p.name for p in parameters}
    window = entry.get("window") or {}
    if window.get("type") not in WINDOW_TYPES:
        raise ManifestError(f"{where}.window: type must be one of {', '.join(WINDOW_TYPES)}")
    if window.get("size") not in names:
        raise ManifestError(f"{where}.window: size must name one of the rule's parameters")
    slide = window.get("slide")
    if (window["type"] == "hopping") != (slide is not None) or (slide and slide not in names):
        raise ManifestError(
            f"{where}.window: a hopping window names its slide parameter, a tumbling one none"
        )
    baseline = tuple(sorted(dict(entry.get("baseline") or {}).items()))
    for setting, parameter in baseline:
        if parameter not in names:
            raise ManifestError(f"{where}.baseline.{setting}: {parameter!r} is not a parameter")
    sql = str(entry.get("sql", ""))
    path = sql_dir / sql
    if not sql.endswith(".sql") or not path.is_file():
        raise ManifestError(f"{where}.sql: no rule file {path}")
    block = entry.get("block")
    family = entry.get("family")
    if (kind == "per_user") != isinstance(family, str):
        raise ManifestError(f"{where}: a per_user rule names its family, a platform rule none")
    rule = Rule(
        family=family,
        block=None if block is None else _parameter(f"{name}_block_seconds", block, where, "block"),
        name=name,
        kind=str(kind),
        sql=sql,
        description=str(entry.get("description", "")).strip(),
        window_type=str(window["type"]),
        window_size=str(window["size"]),
        window_slide=None if slide is None else str(slide),
        parameters=parameters,
        baseline=baseline,
    )
    if not rule.description:
        raise ManifestError(f"{where}: needs a description")
    if rule.window_slide is not None:
        size, step = rule.parameter(rule.window_size).value, rule.parameter(rule.window_slide).value
        if size % step:
            raise ManifestError(f"{where}.window: {size} s is not a multiple of the {step} s slide")
    return rule


def parse(document: Any, path: Path) -> Manifest:
    """Validate a manifest document: names, bounds, defaults within bounds, SQL files and their
    placeholders (each one a parameter of its rule or a shared setting)."""
    if not isinstance(document, dict):
        raise ManifestError(f"{path}: the manifest must be a JSON object")
    settings = tuple(
        _parameter(n, e, "settings") for n, e in dict(document.get("settings") or {}).items()
    )
    rules = tuple(_rule(n, e, path.parent) for n, e in dict(document.get("rules") or {}).items())
    if not rules:
        raise ManifestError(f"{path}: no rules")
    seen: dict[str, str] = {s.name: "settings" for s in settings}
    for rule in rules:
        for parameter in rule.parameters:
            if parameter.name in seen:
                raise ManifestError(
                    f"{parameter.name} is defined twice ({seen[parameter.name]}, {rule.name})"
                )
            seen[parameter.name] = rule.name
    setting_names = {s.name for s in settings}
    for rule in rules:
        text = (path.parent / rule.sql).read_text(encoding="utf-8")
        own = {p.name for p in rule.parameters}
        unknown = sorted(set(_PLACEHOLDER.findall(text)) - own - setting_names)
        if unknown:
            raise ManifestError(
                f"{rule.sql} uses {', '.join('${' + u + '}' for u in unknown)}, "
                f"which is neither a parameter of rule {rule.name} nor a setting"
            )
        unused = sorted(own - set(_PLACEHOLDER.findall(text)))
        if unused:
            raise ManifestError(f"{rule.sql} never uses the parameter(s) {', '.join(unused)}")
    return Manifest(rules=rules, settings=settings, path=path)


def load(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and validate a manifest file (the shipped one is cached)."""
    if path == MANIFEST_PATH:
        return _shipped()
    return _read(path)


@cache
def _shipped() -> Manifest:
    return _read(MANIFEST_PATH)


def _read(path: Path) -> Manifest:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no rules manifest at {path}") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path} is not JSON: {exc}") from None
    return parse(document, path)


def _value(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def markdown_table(manifest: Manifest | None = None) -> str:
    """The rules and settings as Markdown tables (docs/realtime.md, the module README)."""
    manifest = manifest or load()
    lines = [
        "| rule | kind | window | parameter | default | bounds | meaning |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in manifest.rules:
        window = rule.window_type if rule.window_slide is None else "hopping"
        for i, p in enumerate(rule.parameters):
            lines.append(
                f"| {'`' + rule.name + '`' if i == 0 else ''} | {rule.kind if i == 0 else ''} "
                f"| {window if i == 0 else ''} | `{p.name}` | {_value(p.value)} "
                f"| {_value(p.minimum)} to {_value(p.maximum)} | {p.description} |"
            )
    lines += [
        "",
        "| setting | default | bounds | used by | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in manifest.settings:
        lines.append(
            f"| `{s.name}` | {_value(s.value)} | {_value(s.minimum)} to {_value(s.maximum)} "
            f"| {', '.join(s.used_by)} | {s.description} |"
        )
    return "\n".join(lines) + "\n"


TABLE_START = "<!-- rules-manifest:start (generated by python -m ecomm_cli.detect) -->"
TABLE_END = "<!-- rules-manifest:end -->"


def replace_table(text: str, table: str) -> str:
    """`text` with the part between the manifest table markers replaced by `table`."""
    start, end = text.index(TABLE_START), text.index(TABLE_END)
    return text[: start + len(TABLE_START)] + "\n" + table + text[end:]


DOCUMENTS = (
    PROJECT_ROOT / "docs" / "realtime.md",
    PROJECT_ROOT / "terraform" / "modules" / "realtime" / "README.md",
)


def main() -> None:
    """Rewrite the manifest tables of the documents that carry them."""
    table = markdown_table()
    for document in DOCUMENTS:
        document.write_text(replace_table(document.read_text(encoding="utf-8"), table))
        print(f"wrote the rules table into {document.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()

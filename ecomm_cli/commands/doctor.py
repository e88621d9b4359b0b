"""`ecomm doctor`: is this machine ready? terraform, provider, Java, credentials, emulator."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass

import typer

from ecomm_cli import aws_clients
from ecomm_cli.errors import EXIT_FINDINGS, EcommError
from ecomm_cli.infra import provider_mirror, terraform
from ecomm_cli.local import stack
from ecomm_cli.options import FormatOption, OutputFormat
from ecomm_cli.output import Rows, render
from ecomm_cli.settings import Settings


@dataclass(frozen=True)
class Check:
    """One readiness check: ok, warn (works with less) or fail (exit 1)."""

    name: str
    status: str  # ok | warn | fail
    detail: str


def _version_of(cmd: list[str]) -> str | None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (proc.stdout + proc.stderr).strip()
    return text.splitlines()[0] if proc.returncode == 0 and text else None


def terraform_check(binary: str) -> Check:
    """The Terraform found, against the minimum every root's versions.tf requires."""
    version = terraform.version_of(binary)
    needed = f">= {terraform.MINIMUM_VERSION}"
    if version is None:
        return Check("terraform", "fail", f"{binary} does not report its version")
    if not terraform.at_least(version, terraform.MINIMUM_VERSION):
        return Check(
            "terraform",
            "fail",
            f"{version} at {binary}: the project needs {needed} (S3 lock file, test mocks)",
        )
    return Check("terraform", "ok", f"{version} ({needed} needed)")


def run_checks(settings: Settings) -> list[Check]:
    """Every readiness check, computed before anything is printed."""
    checks: list[Check] = []
    try:
        checks.append(terraform_check(terraform.terraform_binary()))
    except EcommError as exc:
        checks.append(Check("terraform", "fail", exc.message))
    mirror = provider_mirror.find_mirror(settings)
    if mirror is None:
        checks.append(
            Check(
                "aws provider",
                "warn",
                "no mirror found: the public registry will "
                "be used (set TF_PLUGIN_DIR when offline)",
            )
        )
    elif provider_mirror.holds_aws_provider(mirror):
        versions = sorted(p.name for p in (mirror / provider_mirror.PROVIDER_SUBPATH).iterdir())
        checks.append(Check("aws provider", "ok", f"mirror {mirror} ({', '.join(versions)})"))
    else:
        checks.append(
            Check(
                "aws provider",
                "fail",
                f"TF_PLUGIN_DIR={mirror} holds no registry.terraform.io/hashicorp/aws",
            )
        )
    java = shutil.which("java")
    if java:
        version = _version_of([java, "-version"]) or "unknown version"
        major = re.search(r'"(\d+)', version)
        good = major is not None and int(major.group(1)) >= 11
        checks.append(
            Check(
                "java",
                "ok" if good else "warn",
                version + ("" if good else " (Spark 3.5 needs Java 11 or 17)"),
            )
        )
    else:
        checks.append(Check("java", "warn", "not found: `ecomm etl run --local` needs Java 17"))
    credentials = aws_clients.session(settings.with_(env="dev")).get_credentials()
    checks.append(
        Check(
            "aws credentials",
            "ok" if credentials else "warn",
            f"found ({credentials.method})" if credentials else "none: only --env local works",
        )
    )
    info = stack.status(settings)
    checks.append(
        Check(
            "emulator",
            "ok" if info["serving"] else "warn",
            f"{info['endpoint_url']} ({info['resources']} resources)"
            if info["serving"]
            else "not running: `ecomm local up` starts it",
        )
    )
    return checks


def doctor(output: FormatOption = OutputFormat.table) -> None:
    """Check terraform, the aws provider source, Java, AWS credentials and the emulator;
    exit 1 when a check fails."""
    checks = run_checks(Settings.load())
    render(
        Rows(
            "ecomm doctor",
            ("name", "status", "detail"),
            [asdict(check) for check in checks],
            styles={"status": {"ok": "green", "warn": "yellow", "fail": "red"}},
        ),
        output,
    )
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.command()(doctor)

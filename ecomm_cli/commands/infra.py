"""`ecomm plan | apply | destroy --env ENV`: Terraform with backend, variables and zips ready."""

from __future__ import annotations

from typing import Annotated

import typer

from ecomm_cli import aws_clients
from ecomm_cli.console import EcommError, console
from ecomm_cli.infra import artifacts, terraform
from ecomm_cli.options import EnvOption
from ecomm_cli.settings import Settings

AutoApprove = Annotated[
    bool, typer.Option("--auto-approve", "-y", help="Do not ask before changing anything.")
]


def _prepare(env: str) -> Settings:
    """Checks that fail fast with one line, then the zips and `terraform init`."""
    terraform.check_environment(env)
    settings = Settings.load(env=env)
    terraform.terraform_binary()
    if env != "local":
        credentials = aws_clients.session(settings).get_credentials()
        if credentials is None:
            raise EcommError(
                f"no AWS credentials found for --env {env}",
                hint="configure a profile (aws configure / AWS_PROFILE) or try --env local",
            )
        backend = settings.environment_dir / "backend.hcl"
        if "replace-with-your-account-id" in backend.read_text():
            raise EcommError(
                f"the Terraform state bucket of {env} is not configured",
                hint=f"apply terraform/bootstrap once, write its backend_hcl output to {backend}",
            )
    elif not settings.resolved_endpoint():
        raise EcommError("the local stack is not running", hint="run `ecomm local up` first")
    built = artifacts.build_all(settings)
    if env != "local" and not built.flink_has_connector:
        console.print(
            "[yellow]warning:[/] the Flink zip has no Kinesis SQL connector jar "
            "(set ECOMM_FLINK_CONNECTOR_JAR); `ecomm apply` will refuse to deploy it"
        )
    terraform.init(settings)
    return settings


def _require_connector(settings: Settings) -> None:
    if settings.env != "local" and settings.flink_connector_jar is None:
        raise EcommError(
            "the Managed Flink application needs the Kinesis SQL connector jar",
            hint="download the jar named in flink/connector.properties and set "
            "ECOMM_FLINK_CONNECTOR_JAR to its path",
        )


def plan(env: EnvOption = "local") -> None:
    """Show what Terraform would change in the environment."""
    settings = _prepare(env)
    result = terraform.run(
        settings,
        ["plan", "-input=false", "-detailed-exitcode", *terraform.var_args(settings)],
        ok_codes=(0, 2),
    )
    console.print(
        "[green]no changes[/]" if result.returncode == 0 else "[yellow]changes planned[/]"
    )


def _plan_then_apply(settings: Settings, *, destroy: bool, auto_approve: bool) -> None:
    """Plan to a file, ask (unless --auto-approve), then apply exactly that plan."""
    plan_file = settings.state_dir / "terraform" / f"{settings.env}.tfplan"
    plan_file.parent.mkdir(parents=True, exist_ok=True)
    args = [
        "plan",
        "-input=false",
        "-detailed-exitcode",
        f"-out={plan_file}",
        *terraform.var_args(settings),
    ]
    if destroy:
        args.insert(1, "-destroy")
    result = terraform.run(settings, args, ok_codes=(0, 2))
    if result.returncode == 0:
        console.print("[green]no changes[/]")
        return
    verb = "destroy these resources" if destroy else "apply these changes"
    if not auto_approve and not typer.confirm(f"{verb.capitalize()} in {settings.env}?"):
        raise EcommError("cancelled, nothing changed", code=1)
    terraform.run(settings, ["apply", "-input=false", str(plan_file)])


def apply(env: EnvOption = "local", auto_approve: AutoApprove = False) -> None:
    """Create or update every resource of the environment (plans first, then asks)."""
    _require_connector(Settings.load(env=env))
    _plan_then_apply(_prepare(env), destroy=False, auto_approve=auto_approve)


def destroy(env: EnvOption = "local", auto_approve: AutoApprove = False) -> None:
    """Delete every resource of the environment (plans first, then asks)."""
    _plan_then_apply(_prepare(env), destroy=True, auto_approve=auto_approve)


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(apply)
    app.command()(destroy)

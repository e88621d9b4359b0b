"""Run Terraform for an environment: right backend, variables, provider source, zips built.

Output is streamed as Terraform prints it; known failures become one line with a hint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecomm_cli.console import console, err_console
from ecomm_cli.errors import EcommError
from ecomm_cli.infra import provider_mirror
from ecomm_cli.settings import BOOTSTRAP, PROJECT_ROOT, Settings


def _minimum_version() -> str:
    """The Terraform version every root requires (`required_version` of environments/dev).

    The S3 backend's lock file (`use_lockfile`) is GA in 1.11 and the module tests use
    `override_during`, also 1.11; a unit test keeps every versions.tf and the README on it.
    """
    text = (PROJECT_ROOT / "terraform" / "environments" / "dev" / "versions.tf").read_text()
    found = re.search(r'required_version\s*=\s*">=\s*([0-9.]+)"', text)
    return found.group(1) if found else "1.11"


MINIMUM_VERSION = _minimum_version()

# Substrings of Terraform's output that mean a known, user-fixable failure.
_KNOWN_FAILURES: list[tuple[tuple[str, ...], str, str]] = [
    (
        (
            "No valid credential sources found",
            "failed to refresh cached credentials",
            "NoCredentialProviders",
            "InvalidClientTokenId",
            "ExpiredToken",
        ),
        "AWS credentials are missing or invalid",
        "configure a profile or set AWS_PROFILE / AWS_ACCESS_KEY_ID, then retry",
    ),
    (
        ("S3 bucket does not exist", "NoSuchBucket", "bucket does not exist"),
        "the Terraform state bucket does not exist",
        "create it once with `terraform -chdir=terraform/bootstrap apply`, see README",
    ),
    (
        (
            "Failed to query available provider packages",
            "could not connect to registry",
            "Failed to install provider",
        ),
        "Terraform could not install the hashicorp/aws provider",
        "set TF_PLUGIN_DIR to a filesystem mirror holding registry.terraform.io/hashicorp/aws",
    ),
    (
        ("Error acquiring the state lock",),
        "the Terraform state is locked: an apply is running, or one was interrupted",
        "wait for it to end; if none runs, `terraform -chdir=<root> force-unlock LOCK_ID` "
        "with the ID printed above",
    ),
    (
        ("Unsupported Terraform Core version",),
        f"this Terraform is older than the project needs (>= {MINIMUM_VERSION})",
        "install a newer Terraform (`ecomm doctor` shows the version found)",
    ),
    (
        ("connection refused", "dial tcp 127.0.0.1"),
        "the local emulator is not answering",
        "run `ecomm local up` (or `ecomm local status`)",
    ),
]


@dataclass(frozen=True)
class TerraformResult:
    returncode: int
    tail: str


# How long an interrupted Terraform may take to stop gracefully before it is killed.
INTERRUPT_GRACE_S = 120.0


def terraform_binary() -> str:
    """The terraform executable, or a one-line error saying how to get it."""
    path = shutil.which(os.environ.get("ECOMM_TERRAFORM", "terraform"))
    if path is None:
        raise EcommError(
            "terraform is not installed or not on PATH",
            hint=f"install Terraform >= {MINIMUM_VERSION} "
            "(https://developer.hashicorp.com/terraform/install)",
        )
    return path


def version_of(binary: str) -> str | None:
    """The version a terraform binary reports (`terraform version -json`), or None."""
    try:
        proc = subprocess.run(
            [binary, "version", "-json"], capture_output=True, text=True, timeout=30
        )
        return str(json.loads(proc.stdout)["terraform_version"])
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError):
        return None


def at_least(version: str, minimum: str) -> bool:
    """True when `version` (1.11.4, 1.12.0-beta1) is `minimum` (1.11) or newer."""

    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", text.split("-")[0])[:3])

    return parts(version) >= parts(minimum)


def data_dir(settings: Settings) -> Path:
    """Terraform's working data (.terraform) of the environment, inside the state folder."""
    return settings.state_dir / "terraform" / settings.env


def terraform_env(settings: Settings) -> dict[str, str]:
    """Process environment for Terraform: provider mirror, per-env data dir, no prompts."""
    env = dict(os.environ)
    env.update(provider_mirror.terraform_env(settings))
    # The .terraform folder lives in the state folder, per environment, so that two state
    # folders (a user's and a test's) never share provider caches or backend settings.
    env["TF_DATA_DIR"] = str(data_dir(settings))
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    return env


def _classify(output: str) -> tuple[str, str] | None:
    lowered = output.lower()
    for needles, message, hint in _KNOWN_FAILURES:
        if any(n.lower() in lowered for n in needles):
            return message, hint
    return None


def run(
    settings: Settings,
    args: Sequence[str],
    *,
    stream: bool = True,
    check: bool = True,
    ok_codes: Sequence[int] = (0,),
) -> TerraformResult:
    """Run `terraform -chdir=<environment> args...`, streaming output; raise on known failures.

    Ctrl-C (KeyboardInterrupt) is passed on to Terraform as one interrupt, which makes it stop
    gracefully (state saved, provider plugins stopped); the KeyboardInterrupt is re-raised once
    Terraform has exited. A second Ctrl-C makes Terraform exit at once.
    """
    cmd = [terraform_binary(), f"-chdir={settings.environment_dir}", *args]
    tail: deque[str] = deque(maxlen=200)
    with subprocess.Popen(
        cmd,
        env=terraform_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        # Its own session: a terminal's Ctrl-C reaches only the CLI, which sends Terraform
        # exactly one interrupt (two would make it exit at once and orphan its providers).
        start_new_session=True,
    ) as proc:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                tail.append(line)
                if stream:
                    console.out(line, end="", highlight=False)
            returncode = proc.wait()
        except KeyboardInterrupt:
            _interrupt(proc, stream)
            raise
    text = "".join(tail)
    if check and returncode not in ok_codes:
        if not stream:
            # Nothing was shown while it ran: show the end of it, where Terraform's error is.
            err_console.out("".join(list(tail)[-60:]), end="", highlight=False)
        known = _classify(text)
        if known:
            raise EcommError(known[0], hint=known[1])
        raise EcommError(
            f"terraform {args[0]} failed (exit {returncode})", hint="see the output above"
        )
    return TerraformResult(returncode, text)


def _interrupt(proc: subprocess.Popen[str], stream: bool) -> None:
    """Stop Terraform the way its own Ctrl-C handling expects, and wait for it."""
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # "Interrupt received. Stopping operation..."
            if stream:
                console.out(line, end="", highlight=False)
        proc.wait(timeout=INTERRUPT_GRACE_S)
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)  # a second Ctrl-C: Terraform exits at once
        proc.wait(timeout=INTERRUPT_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def backend_args(settings: Settings) -> list[str]:
    if settings.env == BOOTSTRAP:
        # Local state in terraform/bootstrap/terraform.tfstate, which its README says to keep.
        return []
    if settings.env == "local":
        state = settings.local_dir / "terraform.tfstate"
        state.parent.mkdir(parents=True, exist_ok=True)
        return [f"-backend-config=path={state}"]
    return ["-backend-config=backend.hcl"]


def var_args(settings: Settings) -> list[str]:
    """Variables every plan/apply/destroy of the environment needs."""
    if settings.env == BOOTSTRAP:
        return [f"-var=region={settings.region}"]
    args = [f"-var=build_dir={settings.build_dir}"]
    if settings.flink_connector_jar is not None:
        # The realtime module wants the jar's path inside the application zip (see artifacts).
        args.append(f"-var=flink_connector_jar=lib/{settings.flink_connector_jar.name}")
    if settings.env == "local":
        endpoint = settings.resolved_endpoint()
        if not endpoint:
            raise EcommError("the local stack is not running", hint="run `ecomm local up` first")
        # The region clients use (ECOMM_REGION) is the region the stack is created in.
        args += [f"-var=emulator_endpoint={endpoint}", f"-var=region={settings.region}"]
    else:
        args.append(f"-var-file={settings.env}.tfvars")
    return args


def init(settings: Settings, *, stream: bool = True) -> None:
    """`terraform init` with the environment's backend; quiet and quick when already done."""
    run(settings, ["init", "-input=false", "-reconfigure", *backend_args(settings)], stream=stream)


def capture(settings: Settings, args: Sequence[str]) -> str:
    """Run a read-only terraform command and return its stdout (stderr kept apart)."""
    cmd = [terraform_binary(), f"-chdir={settings.environment_dir}", *args]
    proc = subprocess.run(cmd, env=terraform_env(settings), capture_output=True, text=True)
    if proc.returncode != 0:
        known = _classify(proc.stderr + proc.stdout)
        if known:
            raise EcommError(known[0], hint=known[1])
        first = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise EcommError(f"terraform {args[0]} failed: {first}")
    return proc.stdout


def outputs(settings: Settings) -> dict[str, Any]:
    """`terraform output -json` reduced to plain values, flat."""
    text = capture(settings, ["output", "-json"])
    raw = json.loads(text) if text.strip() else {}
    return flat_outputs({name: entry.get("value") for name, entry in raw.items()})


def flat_outputs(values: dict[str, Any]) -> dict[str, Any]:
    """An environment exports the platform module's outputs as one object, `platform`
    (Terraform cannot re-export a module's outputs one by one without repeating each);
    everything downstream reads them by their own names."""
    platform = values.get("platform")
    if not isinstance(platform, dict):
        return values
    return {**{k: v for k, v in values.items() if k != "platform"}, **platform}


def state_resource_count(settings: Settings) -> int:
    """How many resources the environment's state holds (data sources excluded)."""
    listed = capture(settings, ["state", "list"]).splitlines()
    return len([r for r in listed if r.strip() and ".data." not in r and not r.startswith("data.")])

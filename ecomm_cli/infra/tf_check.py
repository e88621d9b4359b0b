"""`make tf-check`: terraform fmt check, validate of every environment, test of every module.

Runs offline against the provider mirror when one is found (see provider_mirror), two at a time
because init and test are dominated by provider start-up, not by CPU-heavy work.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ecomm_cli.infra import provider_mirror
from ecomm_cli.infra.terraform import terraform_binary
from ecomm_cli.settings import PROJECT_ROOT, Settings


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    seconds: float
    output: str


def _run(cmd: list[str], env: dict[str, str]) -> tuple[bool, str]:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return proc.returncode == 0, proc.stdout + proc.stderr


def check_dir(
    directory: Path, action: list[str], env: dict[str, str], root: Path = PROJECT_ROOT
) -> CheckResult:
    """`terraform init -backend=false` in `directory`, then `terraform <action>` there."""
    started = time.monotonic()
    name = str(directory.relative_to(root))
    tf = terraform_binary()
    steps = [
        [tf, f"-chdir={directory}", "init", "-backend=false", "-input=false"],
        [tf, f"-chdir={directory}", *action],
    ]
    output = ""
    for step in steps:
        ok, out = _run(step, env)
        output += out
        if not ok:
            return CheckResult(name, False, time.monotonic() - started, output)
    return CheckResult(name, True, time.monotonic() - started, output)


def targets(root: Path = PROJECT_ROOT) -> list[tuple[Path, list[str]]]:
    """Every environment (validate), the bootstrap stack (validate) and module (test)."""
    tf_root = root / "terraform"
    found: list[tuple[Path, list[str]]] = []
    for env_dir in sorted((tf_root / "environments").glob("*/")):
        found.append((env_dir, ["validate", "-no-color"]))
    if (tf_root / "bootstrap").is_dir():
        found.append((tf_root / "bootstrap", ["validate", "-no-color"]))
    for module in sorted((tf_root / "modules").glob("*/")):
        found.append((module, ["test", "-no-color"]))
    return found


def main() -> int:
    settings = Settings.load()
    env = dict(os.environ)
    env.update(provider_mirror.terraform_env(settings))
    env["TF_IN_AUTOMATION"] = "1"
    tf = terraform_binary()
    ok, out = _run(
        [tf, "fmt", "-check", "-recursive", "-diff", str(PROJECT_ROOT / "terraform")], env
    )
    print(f"{'ok  ' if ok else 'FAIL'} terraform fmt -check -recursive terraform")
    failures = 0 if ok else 1
    if not ok:
        print(out)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(check_dir, d, action, env) for d, action in targets()]
        for future in futures:
            result = future.result()
            verb = "test" if "/modules/" in f"/{result.name}/" else "validate"
            print(
                f"{'ok  ' if result.ok else 'FAIL'} {verb:8} {result.name} ({result.seconds:.1f} s)"
            )
            if not result.ok:
                failures += 1
                print(result.output)
    print(f"tf-check: {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Start the local runners as child processes and make sure none outlives the demo."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from ecomm_cli.errors import EcommError


class RunnerFailed(EcommError):
    """A supervised runner exited on its own before it was asked to stop."""


class Supervisor:
    """Named `ecomm ...` child processes, stopped together (also on Ctrl-C or an error)."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None):
        self.log_dir = log_dir
        self.env = env
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with (self.log_dir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "ecomm_cli", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                # Own process group: the terminal's Ctrl-C reaches the demo, which stops these
                # in order, instead of killing them mid-write.
                start_new_session=True,
            )

    def check(self) -> None:
        """Raise when a runner died on its own."""
        for name, proc in self.processes.items():
            code = proc.poll()
            if code is not None:
                raise RunnerFailed(
                    f"the {name} runner exited with code {code} "
                    f"(see {self.log_dir / (name + '.log')})"
                )

    def stop_all(self, timeout: float = 30.0) -> dict[str, int]:
        """SIGTERM every runner, wait, SIGKILL what is left; exit codes by name."""
        for proc in self.processes.values():
            if proc.poll() is None:
                signal_child(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes: dict[str, int] = {}
        for name, proc in self.processes.items():
            try:
                codes[name] = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_child(proc.pid, signal.SIGKILL)
                codes[name] = proc.wait()
        self.processes.clear()
        return codes

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


def signal_child(pid: int, sig: signal.Signals) -> None:
    """Signal a child that may have exited in the meantime."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)

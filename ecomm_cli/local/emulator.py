"""The AWS emulator of the local stack: moto in server mode, on 127.0.0.1 and a free port.

It runs in its own process (so it outlives the `ecomm local up` that started it) with the gap
patches of `emulator_gaps` applied before it serves. Run as a module it is that process:
`python -m ecomm_cli.local.emulator --ready-file PATH`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ecomm_cli.errors import EcommError

_MODULE = "ecomm_cli.local.emulator"


@dataclass(frozen=True)
class EmulatorProcess:
    pid: int
    port: int

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def emulator_environment() -> dict[str, str]:
    env = dict(os.environ)
    # Without it, attaching AWS-managed policies (Lambda/Glue service roles) fails.
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    # The emulator must never reach out for credentials or metadata.
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    return env


def start(log_dir: Path, *, timeout: float = 60.0) -> EmulatorProcess:
    """Start the emulator process and wait until it serves; its pid and port are returned."""
    log_dir.mkdir(parents=True, exist_ok=True)
    ready_file = log_dir / "emulator.ready"
    ready_file.unlink(missing_ok=True)
    log_path = log_dir / "emulator.log"
    with log_path.open("ab") as log:
        log_start = log.seek(0, os.SEEK_END)  # this start's lines follow
        proc = subprocess.Popen(
            [sys.executable, "-m", _MODULE, "--ready-file", str(ready_file)],
            env=emulator_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # not killed by the Ctrl-C of the command that started it
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            reason = _last_line(log_path, log_start)
            raise EcommError(
                f"the emulator exited at start (code {proc.returncode})"
                + (f": {reason}" if reason else ""),
                hint=f"see {log_path}",
            )
        if ready_file.exists() and ready_file.read_text().strip():
            emulator = EmulatorProcess(pid=proc.pid, port=int(ready_file.read_text()))
            if is_serving(emulator.endpoint_url):
                return emulator
        time.sleep(0.1)
    stop(proc.pid)
    raise EcommError("the emulator did not start in time", hint=f"see {log_path}")


def _last_line(log_path: Path, offset: int) -> str:
    """The last line the emulator wrote to its log after `offset` (its error), without the
    `error: ` prefix `_main` gives it; empty when it wrote nothing."""
    with log_path.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode(errors="replace").splitlines()
    last = next((line.strip() for line in reversed(lines) if line.strip()), "")
    return last.removeprefix("error: ")


def is_ours(pid: int) -> bool:
    """True when `pid` is alive and is an emulator process this project started."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return _MODULE.encode() in cmdline


def is_serving(endpoint_url: str, timeout: float = 5.0) -> bool:
    """True when the emulator answers on `endpoint_url` (any HTTP status counts).

    A cheap request on purpose: the emulator's state dump grows with every resource.
    """
    try:
        request = urllib.request.Request(f"{endpoint_url}/", method="HEAD")
        with urllib.request.urlopen(request, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def stop(pid: int, *, timeout: float = 10.0) -> bool:
    """Stop the emulator with this pid, if it is ours; True when a process was stopped."""
    if not is_ours(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_ours(pid):
            break
        # Reap it when it is our child (tests); otherwise wait for it to vanish.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    return True


def serve(ready_file: Path, port: int = 0) -> None:
    """Apply the gap patches, serve on 127.0.0.1, write the port, run until SIGTERM.

    With ECOMM_EMULATOR_CALL_LOG set, every distinct call is logged there (`call_log`)."""
    from moto.server import ThreadedMotoServer

    from ecomm_cli.local import call_log, emulator_gaps

    emulator_gaps.apply_all()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    log_path = os.environ.get(call_log.ENV_VAR)
    if log_path:
        # Before the port is announced, so no request is answered unrecorded.
        wsgi = server._server
        assert wsgi is not None
        wsgi.app = call_log.CallLog(wsgi.app, Path(log_path))
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    _, bound_port = server.get_host_and_port()
    ready_file.write_text(str(bound_port))
    print(
        json.dumps({"event": "emulator_ready", "port": bound_port, "pid": os.getpid()}), flush=True
    )
    stopping.wait()
    server.stop()


def _main() -> None:
    parser = argparse.ArgumentParser(description="Run the ecomm AWS emulator (moto server).")
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        serve(args.ready_file, args.port)
    except EcommError as exc:
        # One line in emulator.log (stderr goes there), which `start` quotes in its own error.
        hint = f" ({exc.hint})" if exc.hint else ""
        print(f"error: {exc.message}{hint}", file=sys.stderr, flush=True)
        sys.exit(exc.code)


if __name__ == "__main__":
    _main()

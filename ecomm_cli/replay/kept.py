"""The files where rows that did not make it are kept: rejects and dead letters (JSON Lines).

Opened lazily, so a clean run leaves no empty file behind; appended to on `--resume`.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, Any


class KeptRows:
    """A thread-safe JSON Lines file of rows set aside, each with its reason."""

    def __init__(self, path: Path, append: bool = False):
        self.path = path
        self._append = append
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self.written = 0
        if not append:
            # A fresh run must not leave the previous run's rows looking like its own.
            path.unlink(missing_ok=True)

    def write(self, item: dict[str, Any]) -> None:
        line = json.dumps(item, ensure_ascii=False) + "\n"
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a" if self._append else "w", encoding="utf-8")
            self._file.write(line)
            self.written += 1

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

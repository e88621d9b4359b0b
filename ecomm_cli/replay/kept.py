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

    def __init__(self, path: Path, append: bool = False, cut_to: int | None = None):
        """`append` keeps what the file holds; `cut_to` (with it) first cuts the file back to
        that many bytes: what a killed run wrote after its last checkpoint is written again."""
        self.path = path
        self._append = append
        self._file: IO[str] | None = None
        self._lock = threading.Lock()
        self.written = 0
        if not append:
            # A fresh run must not leave the previous run's rows looking like its own.
            path.unlink(missing_ok=True)
        elif cut_to is not None and path.exists() and path.stat().st_size > cut_to:
            with path.open("r+b") as handle:
                handle.truncate(cut_to)

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

    def length(self) -> int:
        """The file's length in bytes once what was written is flushed (0 when absent)."""
        self.flush()
        return self.path.stat().st_size if self.path.exists() else 0

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

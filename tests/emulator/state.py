"""Durable state (`--state-dir`): what a device keeps over a reboot, one JSON file per unit.

Every change is written at once, atomically (temporary file + rename), so a twin killed at any
moment restarts with either the old or the new state, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .device import Unit


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class StateStore:
    """Reads and writes `unit-NNN.json` in the state directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, unit: Unit) -> Path:
        return self.directory / f"unit-{unit.index + 1:03d}.json"

    def load(self, unit: Unit) -> dict | None:
        """The unit's saved state, or None when there is none (or it is unreadable)."""
        try:
            data = json.loads(self.path(unit).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, unit: Unit) -> None:
        write_atomic(self.path(unit), json.dumps(unit.to_state(), indent=1, sort_keys=True).encode())

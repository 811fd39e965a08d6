"""Stop the twin that tests/utils/start_twin.py started, for the destroy step of extensions/molecule/default.

Usage, from the repository root: python -m tests.utils.stop_twin WORKDIR [--timeout S]

SIGTERM, then waits for it to exit (SIGKILL after the timeout). Without a pid file, or when that process is
gone or is not a twin, there is nothing to stop: so it also cleans up after a create that failed halfway.
Prints "stopped" when it stopped one.
"""

import argparse
import contextlib
import os
import pathlib
import signal
import time


def is_twin(pid: int) -> bool:
    """Whether pid is a running twin (not a recycled pid, not a zombie: its cmdline is then empty)."""
    try:
        return "tests.emulator" in pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return False


def stop(pid: int, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_twin(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_twin(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=pathlib.Path)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    pid_file = args.workdir / "twin.pid"
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        print("no twin")
        return
    if is_twin(pid):
        stop(pid, args.timeout)
        print(f"stopped twin {pid}")
    else:
        print(f"twin {pid} already gone")
    pid_file.unlink()


if __name__ == "__main__":
    main()

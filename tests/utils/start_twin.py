"""Start a twin fleet that outlives this script, for the create step of extensions/molecule/default.

Usage, from the repository root: python -m tests.utils.start_twin WORKDIR [--units N]

In WORKDIR: run/ (the twin's own inventory and log), state/ (its --state-dir: what the playbooks applied,
kept on disk as it happens), twin.pid (for tests/utils/stop_twin.py) and site/ (the site inventory, with each
unit's measured point sets in host_vars, as tests/sites.py writes it). When it fails, no twin is left running
and no pid file is left behind, so that create can simply be run again.
"""

import argparse
import os
import pathlib

from tests.emulator.process import Twin
from tests.sites import write_site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=pathlib.Path)
    parser.add_argument("--units", type=int, default=2)
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    # A session of its own, which the twin inherits: signals meant for the step that started it (or its
    # terminal) do not reach it. A process group leader (started from a shell) is detached enough already.
    try:
        os.setsid()
    except PermissionError:
        pass
    twin = Twin(args.units, workdir=workdir / "run", state_dir=workdir / "state")
    twin.start()
    try:
        (workdir / "twin.pid").write_text(f"{twin.pid}\n")
        write_site(twin, workdir / "site", list(twin.hosts))
    except BaseException:
        twin.stop()
        (workdir / "twin.pid").unlink(missing_ok=True)
        raise
    print(f"twin {twin.pid} started with {args.units} units; site inventory in {workdir / 'site'}")


if __name__ == "__main__":
    main()

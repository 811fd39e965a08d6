"""`make demo`: a fleet of emulated units rolled out end to end, as a site would do it.

Starts the device twin over HTTPS (its own CA, in the inventory as q6000_ca_path; the PTZs speak HTTPS too, as
a site's should, since the Q6000-E receives the PTZ's password), writes a site inventory whose units already
have their calibration points measured, runs playbooks/site.yml (links set, every head calibrated), runs it
again with a drift check (nothing changes) followed by playbooks/report.yml, prints the fleet's facts, and
stops the twin.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.emulator.process import Twin
from tests.sites import write_site

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def step(title):
    print("\n=== %s ===" % title, flush=True)


def playbook(inventory, *names, extra=()):
    """Run ansible-playbook with this checkout's collection, streaming its output."""
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory)]
    command += [str(REPO / "playbooks" / name) for name in names] + list(extra)
    print("$ " + " ".join(os.path.relpath(part, REPO) if part.startswith(str(REPO)) else part for part in command),
          flush=True)
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
                       ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_DISPLAY_SKIPPED_HOSTS="False")
    started = time.monotonic()
    subprocess.run(command, cwd=inventory.parent, env=environment, check=True)
    print("(%.1f s)" % (time.monotonic() - started), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=4, help="units in the fleet (default 4)")
    parser.add_argument("--workdir", type=Path, default=REPO / ".twin" / "demo",
                        help="where the twin's inventory, the site and the report go (default .twin/demo)")
    options = parser.parse_args(argv)

    step("Starting a twin fleet of %d AXIS Q6000-E units on their Q60-E PTZs, over HTTPS" % options.units)
    with Twin(units=options.units, workdir=options.workdir / "twin", tls=True) as twin:
        inventory = write_site(twin, options.workdir / "site", sorted(twin.hosts))
        print("site inventory: %s (point sets in %s; certificates signed by %s)"
              % (inventory, inventory.parent / "host_vars", twin.ca_path))

        step("First rollout: every link set, every head calibrated")
        playbook(inventory, "site.yml", extra=["-e", "q6000_serial=100%"])

        step("Second rollout with a drift check: nothing changes; then the fleet report")
        report = options.workdir / "q6000-report.html"
        playbook(inventory, "site.yml", "report.yml",
                 extra=["-e", "q6000_serial=100%% q6000_recalibrate=when_drifted q6000_report_path=%s" % report])

        step("Facts of the fleet")
        playbook(inventory, "facts.yml")

        step("Stopping the twin")
    print("\nThe fleet report: %s" % report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

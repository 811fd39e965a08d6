"""`make demo`: a fleet of emulated units calibrated from images end to end, as a site would do it.

Starts the device twin over HTTPS (its own CA, in the inventory as q6000_ca_path; the PTZs speak HTTPS too, as
a site's should, since the Q6000-E receives the PTZ's password) and writes a site inventory with no point set
at all. Then: playbooks/site.yml links every unit to its PTZ; playbooks/capture_calibration.yml in image mode
captures every head's points from the pictures, calibrates the heads and keeps a baseline beside each point
set; one unit is knocked (its mount turned a degree); playbooks/check_calibration.yml, the nightly job, finds
it and fails it, then with q6000_fix=true recaptures and recalibrates it; the last report shows the drift and
the pictures of every head. The pictures are at reduced resolution, so that the demo stays short.
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
PICTURES = ("1280x720", "640x360")  # the heads' and the PTZ's snapshots
BIN = Path(sys.executable).parent


def step(title):
    print("\n=== %s ===" % title, flush=True)


def playbook(inventory, *names, extra=(), check=True):
    """Run ansible-playbook with this checkout's collection, streaming its output; its exit code."""
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory)]
    command += [str(REPO / "playbooks" / name) for name in names] + list(extra)
    print("$ " + " ".join(os.path.relpath(part, REPO) if part.startswith(str(REPO)) else part for part in command),
          flush=True)
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
                       ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_DISPLAY_SKIPPED_HOSTS="False")
    started = time.monotonic()
    rc = subprocess.run(command, cwd=inventory.parent, env=environment, check=check).returncode
    print("(%.1f s)" % (time.monotonic() - started), flush=True)
    return rc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2, help="units in the fleet (default 2)")
    parser.add_argument("--workdir", type=Path, default=REPO / ".twin" / "demo",
                        help="where the twin's inventory, the site and the report go (default .twin/demo)")
    options = parser.parse_args(argv)
    started = time.monotonic()

    step("Starting a twin fleet of %d AXIS Q6000-E units on their Q60-E PTZs, over HTTPS" % options.units)
    with Twin(units=options.units, workdir=options.workdir / "twin", tls=True) as twin:
        units = sorted(twin.hosts)
        inventory = write_site(twin, options.workdir / "site", [])
        report = options.workdir / "q6000-report.html"
        images = ["-e", "q6000_capture_resolution=%s q6000_capture_ptz_resolution=%s" % PICTURES,
                  "-e", "q6000_check_resolution=%s q6000_check_ptz_resolution=%s" % PICTURES,
                  "-e", "q6000_report_path=%s" % report]
        print("site inventory: %s (no point sets yet; certificates signed by %s)" % (inventory, twin.ca_path))

        step("Rollout: every unit linked to its PTZ (no point set to calibrate from yet)")
        playbook(inventory, "site.yml", extra=["-e", "q6000_serial=100%"])

        step("Calibration from images: every head's points captured, the heads calibrated, baselines kept")
        capture = ["-e", "q6000_capture_method=image", "-e", "q6000_capture_save=true"]
        playbook(inventory, "capture_calibration.yml", extra=capture + images)
        print("point sets: %s" % ", ".join(str(inventory.parent / "host_vars" / u / "q6000_calibration.yml")
                                           for u in units))

        knocks = {units[-1]: {"yaw": 1.0}}
        if len(units) > 1:
            knocks[units[0]] = {"pitch": 1.0}
        for unit, knock in knocks.items():
            step("Someone knocks %s: its mount turns by a degree about %s (the recorded points cannot show it)"
                 % (unit, "the vertical" if "yaw" in knock else "a horizontal axis: it tilts"))
            twin.knock(unit, **knock)
        knocked = ", ".join(knocks)

        step("The nightly check: %s fail%s with the rotation read%s" % (
            knocked, "s" if len(knocks) == 1 else "", ", the others stay ok" if len(units) > len(knocks) else ""))
        rc = playbook(inventory, "check_calibration.yml", extra=images, check=False)
        if rc == 0:
            raise SystemExit("the check did not find the knocks of %s" % knocked)

        step("The nightly check with q6000_fix=true: %s recaptured and recalibrated; the report" % knocked)
        playbook(inventory, "check_calibration.yml", extra=["-e", "q6000_fix=true"] + images)

        step("Stopping the twin")
    print("\nThe fleet report, with the drift and pictures of every head: %s" % report)
    print("(%.0f s in all)" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())

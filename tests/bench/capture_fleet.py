"""A fleet captured at once: playbooks/capture_calibration.yml in image mode over UNITS units at FORKS forks.

Wall time, controller CPU (ansible-playbook and its workers, the image matching included) and the peak memory
of that process tree, as the fleet section measures site.yml (tests/bench/fleet.py). Every head (CAMERAS), the
pictures at PICTURES, as the tests and the demo take them: the cost per head at full size is the vision
section's figure; this measures what the image work in FORKS workers at once costs the controller.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.bench.fleet import BIN, REPO, environment, measure
from tests.bench.rows import row
from tests.emulator.process import Twin
from tests.sites import write_site

UNITS = 20
FORKS = 10
CAMERAS = (1, 2, 3, 4)
PICTURES = ("1280x720", "640x360")
TITLE = "capture-fleet: calibration_capture over a fleet at once"
SCOPE = "a %d-unit fleet, forks %d, capture_calibration.yml image mode, heads %s, %s/%s" % (
    UNITS, FORKS, ",".join(map(str, CAMERAS)), *PICTURES)


def run() -> tuple[list[dict], list[str]]:
    env = environment(FORKS)
    with tempfile.TemporaryDirectory(prefix="bench-capture-") as tmp, \
            Twin(UNITS, workdir=Path(tmp) / "twin") as twin:
        inventory = write_site(twin, Path(tmp) / "site", [])
        command = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / "capture_calibration.yml"),
                   "-e", "q6000_capture_method=image",
                   "-e", '{"q6000_capture_cameras": %s}' % list(CAMERAS),
                   "-e", "q6000_capture_resolution=%s q6000_capture_ptz_resolution=%s" % PICTURES]
        with open(Path(tmp) / "capture.log", "w", encoding="utf-8") as log:
            try:
                wall, cpu, memory = measure(command, env, log)
            except RuntimeError as exc:
                log.flush()
                tail = (Path(tmp) / "capture.log").read_text()[-1500:]
                return [], ["%s: %s\n%s" % (SCOPE, exc, tail)]
        written = sorted(p.parent.name for p in (Path(tmp) / "site" / "host_vars").glob("*/q6000_calibration.yml"))
    prefix = "%d units at forks %d: " % (UNITS, FORKS)
    return [
        row(prefix + "capture wall", "s", wall, 0),
        row(prefix + "capture controller CPU", "s", cpu, 0),
        row(prefix + "capture peak controller memory", "MiB", memory, 0),
        row(prefix + "units whose point sets were written", "units", len(written), 0),
    ], [SCOPE]

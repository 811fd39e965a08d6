"""`python tests/utils/twin_pictures.py DIR`: the pictures in tests/emulator/README.md (unit q6000-001, seed 1).

Each head, the quad view, and the PTZ at wide and at tele, as the twin's image.cgi renders them, written
as 640x360 JPEG files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# pylint: disable=wrong-import-position
from tests.emulator.device import Settings  # noqa: E402
from tests.emulator.optics import Physics  # noqa: E402
from tests.emulator.render import unjpeg  # noqa: E402
from tests.emulator.views import World  # noqa: E402


def main(directory: str) -> int:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    world = World("1", 0, Physics.generate("1", 0), Settings())
    pictures = {f"head-{n}.jpg": world.head_snapshot(n, 1920, 1080, 90) for n in (1, 2, 3, 4)}
    pan, tilt, _depth = (world.truths(1, [(0.45, 0.55)])[0][k] for k in ("pan", "tilt", "depth"))
    pictures["ptz-wide.jpg"] = world.ptz_snapshot(pan, tilt, 1, 1920, 1080, 90)
    pictures["ptz-tele.jpg"] = world.ptz_snapshot(pan, tilt, 5000, 1920, 1080, 90)
    for name, data in pictures.items():
        small = cv2.resize(cv2.cvtColor(unjpeg(data), cv2.COLOR_RGB2BGR), (640, 360), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out / name), small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "tests/emulator/pictures"))

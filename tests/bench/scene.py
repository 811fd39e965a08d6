"""The world's section: snapshots, a 500-unit fleet's start, and the calibration floor the scene sets.

`python -m tests.bench --only scene` prints medians of 5 runs. One core: cv2.setNumThreads(1), and the
BLAS thread variables are set to 1 before numpy loads. Snapshots are timed in-process through the twin's
own `views.World` (render, exposure, overlay, JPEG; no HTTP). The floor: per unit and head, the Q6000-E's
own fit (tests/emulator/optics.py) of five truth points, then click-to-center over a 5 x 9 grid of head
pixels against the truth (parallax included): what a direction-only calibration cannot absorb.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# pylint: disable=wrong-import-position
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from tests.emulator.device import Settings  # noqa: E402
from tests.emulator.optics import Physics, Point, angular_distance, fit  # noqa: E402
from tests.emulator.process import Twin  # noqa: E402
from tests.emulator.scene import Scene, noise_table  # noqa: E402
from tests.emulator.site import EXPOSURE, Frame  # noqa: E402
from tests.emulator.views import HEAD_CACHE, World  # noqa: E402
from tests.sites import CANDIDATES, far_pixels  # noqa: E402

TITLE = "scene: the twin's pictures, fleet start and the calibration floor (one core)"
RUNS = 5
FLEET = 500
FLOOR_UNITS = 12
GRID = [(x, y) for y in np.linspace(-0.8, 0.8, 5) for x in np.linspace(-0.8, 0.8, 9)]
SPREAD = ((-0.7, 0.55), (0.65, 0.5), (0.6, -0.6), (-0.55, -0.5), (0.05, 0.1))


def _timed(func, runs=RUNS):
    values = []
    for _i in range(runs):
        start = time.perf_counter()
        func()
        values.append(time.perf_counter() - start)
    return values


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _fleet_rows() -> list[dict]:
    starts, memory = [], []
    for _i in range(3):
        with tempfile.TemporaryDirectory() as workdir:
            twin = Twin(FLEET, workdir=workdir).start()
            try:
                starts.append(twin.ready_seconds)
                memory.append(_rss_mb(twin.pid))
            finally:
                twin.stop()
    return [{"metric": f"{FLEET}-unit fleet: start until ready", "unit": "s", "runs": starts},
            {"metric": f"{FLEET}-unit fleet: resident memory after start", "unit": "MB", "digits": 0,
             "runs": memory}]


def _floor(depth_scale: float, pixels_of) -> list[float]:
    """Click-to-center errors (degrees) over GRID for FLOOR_UNITS units x 4 heads."""
    settings = Settings()
    settings.update({"depth_scale": depth_scale})
    errors = []
    for index in range(FLOOR_UNITS):
        world = World("1", index, Physics.generate("1", index), settings)
        for camera in (1, 2, 3, 4):
            truths = world.truths(camera, pixels_of(world, camera))
            points = [Point(t["x"], t["y"], t["pan"], t["tilt"]) for t in truths]
            calibration = fit(camera, points)
            for t in world.truths(camera, GRID):
                errors.append(angular_distance(*calibration.direction(t["x"], t["y"]), t["pan"], t["tilt"]))
    return errors


def _far(world, camera):
    return far_pixels(world.truths(camera, CANDIDATES))


def _floor_rows() -> list[dict]:
    rows = []
    for depth_scale in (0.5, 1.0, 2.0):
        for name, pixels_of in (("far points", _far), ("a fixed spread", lambda world, camera: SPREAD)):
            errors = _floor(depth_scale, pixels_of)
            for statistic, value in (("median", np.median(errors)), ("p95", np.percentile(errors, 95))):
                rows.append({"metric": f"floor, depth scale {depth_scale:g}, from {name}: {statistic}",
                             "unit": "deg", "digits": 3, "runs": [float(value)]})
    return rows


def run() -> list[dict]:
    cv2.setNumThreads(1)
    noise_table()
    counter = iter(range(10 ** 6))
    probe = np.ones(10 ** 6, dtype=np.float32)
    world = World("1", 0, Physics.generate("1", 0), Settings())
    cold = iter(range(1, 10 ** 6))

    def head_cold():
        world.physics.mount = next(cold) * 1e-3  # a knock: the cached picture no longer holds
        world.head_image(1, 1920, 1080)

    world.head_snapshot(2, 1920, 1080, 70)
    rows = [{"metric": "machine: a*b+c on 1e6 float32 (for scale)", "unit": "ms", "digits": 2,
             "runs": [1e3 * v for v in _timed(lambda: probe * probe + probe)]},
            {"metric": "Scene.generate", "unit": "ms", "digits": 3,
             "runs": [1e3 * v for v in _timed(lambda: Scene.generate(1, next(counter)))]},
            {"metric": "head snapshot 1920x1080, cached (target < 20)", "unit": "ms", "digits": 1,
             "runs": [1e3 * v for v in _timed(lambda: world.head_snapshot(2, 1920, 1080, 70))]},
            {"metric": "head snapshot 1920x1080, first after a knock", "unit": "ms", "digits": 0,
             "runs": [1e3 * v for v in _timed(head_cold)]},
            {"metric": "PTZ snapshot 1920x1080, wide (target < 150)", "unit": "ms", "digits": 0,
             "runs": [1e3 * v for v in _timed(lambda: world.ptz_snapshot(30.0, -10.0, 1, 1920, 1080, 70))]},
            {"metric": "PTZ snapshot 1920x1080, tele", "unit": "ms", "digits": 0,
             "runs": [1e3 * v for v in _timed(lambda: world.ptz_snapshot(30.0, -10.0, 9999, 1920, 1080, 70))]},
            {"metric": "head picture cache after these", "unit": "MB", "digits": 0,
             "runs": [HEAD_CACHE.size / 2 ** 20]}]
    return rows + _site_rows() + _fleet_rows() + _floor_rows()


SITE = (("ptz_night", {"ptz_night": True}), ("dusk", {"dusk": True}), ("sway 1", {"sway": 1.0}),
        ("traffic", {"traffic": True}), ("frame_latency, moving and refocusing", {"frame_latency": 0.5}),
        ("all on, moving (traffic, sway, IR, dusk, latency)",
         {"traffic": True, "sway": 1.0, "ptz_night": True, "dusk": True, "frame_latency": 0.5}))


def _site_rows() -> list[dict]:
    """Each site setting on its own (tests/emulator/site.py), then all at once: a 1920x1080 PTZ snapshot (wide;
    must stay under 1 s) and a head snapshot (cached render plus the site's work on it)."""
    rows = []
    for name, values in SITE:
        world = World("1", 0, Physics.generate("1", 0), Settings())
        world.settings.update(values)
        frame = None
        if "frame_latency" in values:  # the PTZ was panning at 100 deg/s and had just zoomed
            frame = Frame(time.monotonic(), (100.0 * EXPOSURE, 0.0), 0.8)
        world.head_snapshot(2, 1920, 1080, 70)
        rows.append({"metric": f"PTZ snapshot 1920x1080, wide, {name} (< 1000)", "unit": "ms", "digits": 0,
                     "runs": [1e3 * v for v in _timed(
                         lambda: world.ptz_snapshot(30.0, -10.0, 1, 1920, 1080, 70, None, frame))]})
        rows.append({"metric": f"head snapshot 1920x1080, {name}", "unit": "ms", "digits": 1,
                     "runs": [1e3 * v for v in _timed(lambda: world.head_snapshot(2, 1920, 1080, 70))]})
    return rows


def main() -> int:
    for row in run():
        print(f"{row['metric']:<60} {statistics.median(row['runs']):>10.{row.get('digits', 2)}f} {row['unit']}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

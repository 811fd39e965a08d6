"""The vision section: calibration_capture (plugins/module_utils/vision/capture.py) against the twin's truth.

`python -m tests.bench --only vision` runs the capture in-process (`execute`, as the module does) against a
twin fleet, one unit after another, all heads per unit, and scores it against the twin's truth only: the
angle between each captured pan/tilt and the truth at that pixel; click-to-center over scene's 5 x 9 grid
with the twin's own fit (tests/emulator/optics.py) of the captured points, beside the same fit of the truth
at the same pixels (the floor parallax sets); PTZ moves, snapshots and wall time (the PTZ turns at the twin's
simulated speed). Then a sweep of depth scale and sensor noise, set on fresh units before their capture.
One measurement each (no repeats); one core for OpenCV and BLAS in this process.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# pylint: disable=wrong-import-position
import math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import cv2  # noqa: E402

from tests.bench import collection  # noqa: E402
from tests.bench.rows import row, short, stat  # noqa: E402
from tests.bench.scene import GRID  # noqa: E402
from tests.emulator.optics import Point, angular_distance, fit, wrap180  # noqa: E402
from tests.emulator.process import Twin  # noqa: E402

UNITS = 6  # units captured one after another, for the figures against truth, the grid and the timing
CAMERAS = (1, 2, 3, 4)
RESOLUTION = "1920x1080"
PTZ_RESOLUTION = "1280x720"
POINTS = 5
SWEEP_UNITS = 2  # fresh units per sweep setting
SWEEP = (("depth scale 0.5", {"depth_scale": 0.5}), ("depth scale 2", {"depth_scale": 2.0}),
         ("noise 0.03", {"noise": 0.03}), ("noise 0.06", {"noise": 0.06}))
SWEEP_WORKERS = 2  # sweep units captured at once (no time is reported for them)
TITLE = "vision: calibration_capture against the twin's truth (%d units, heads %s, %s heads, %s PTZ)" % (
    UNITS, ",".join(map(str, CAMERAS)), RESOLUTION, PTZ_RESOLUTION)


def _capture(twin: Twin, unit: str) -> dict:
    """One unit's capture result, with its wall time and each head's truth at the captured pixels."""
    started = time.monotonic()
    result = collection.run("vision.capture", collection.options(
        twin, unit, cameras=list(CAMERAS), points=POINTS, resolution=RESOLUTION, ptz_resolution=PTZ_RESOLUTION))
    result["seconds"] = time.monotonic() - started
    result["unit"] = unit
    return result


def _truths(twin: Twin, result: dict) -> None:
    for head in result.get("heads") or []:
        head["truths"] = twin.truths(result["unit"], head["camera"], [(p["x"], p["y"]) for p in head["points"]])


def _errors(results: list[dict]) -> list[float]:
    """Degrees between each captured pan/tilt and the truth's at the same pixel (pan difference x cos tilt)."""
    errors = []
    for result in results:
        for head in result.get("heads") or []:
            for point, truth in zip(head["points"], head["truths"]):
                errors.append(math.hypot(wrap180(point["pan"] - truth["pan"]) * math.cos(math.radians(truth["tilt"])),
                                         point["tilt"] - truth["tilt"]))
    return errors


def _grid(twin: Twin, results: list[dict]) -> tuple[list[float], list[float]]:
    """Click-to-center errors over GRID: the twin's fit of the captured points, and of the truth at those pixels."""
    captured, floor = [], []
    for result in results:
        for head in result.get("heads") or []:
            camera = head["camera"]
            mine = fit(camera, [Point(p["x"], p["y"], p["pan"], p["tilt"]) for p in head["points"]])
            best = fit(camera, [Point(t["x"], t["y"], t["pan"], t["tilt"]) for t in head["truths"]])
            for t in twin.truths(result["unit"], camera, GRID):
                captured.append(angular_distance(*mine.direction(t["x"], t["y"]), t["pan"], t["tilt"]))
                floor.append(angular_distance(*best.direction(t["x"], t["y"]), t["pan"], t["tilt"]))
    return captured, floor


def _failures(label: str, results: list[dict]) -> list[str]:
    return ["failed (%s): %s: %s" % (label, r["unit"], short(r.get("msg", ""))) for r in results if _failed(r)]


def _failed(result: dict) -> bool:
    return bool(result.get("failed") or result.get("unreachable"))


def _heads(results: list[dict]) -> tuple[int, int]:
    """(heads that failed, heads asked for that came back without points): a failure ends the unit's run."""
    failed = sum(1 for r in results if _failed(r))
    return failed, len(CAMERAS) * len(results) - sum(len(r.get("heads") or []) for r in results)


def _main_rows(twin: Twin, results: list[dict], speed: float) -> list[dict]:
    errors = _errors(results)
    failed, missing = _heads(results)
    captured, floor = _grid(twin, results)
    done = [r for r in results if not _failed(r) and r.get("heads")]
    points = [sum(len(h["points"]) for h in r["heads"]) for r in done]
    heads = len(CAMERAS) * len(results)
    return [
        row("captured vs truth: median (target <= 0.05)", "deg", stat(errors, 50)),
        row("captured vs truth: p95 (target <= 0.15)", "deg", stat(errors, 95)),
        row("captured vs truth: max", "deg", max(errors, default=float("nan"))),
        row("points captured", "points", len(errors), 0),
        row("heads failed (of %d)" % heads, "heads", failed, 0),
        row("heads without points (a failure ends its unit's run)", "heads", missing, 0),
        row("targets refused per head, per unit", "targets",
            [len(r.get("refused") or []) / len(CAMERAS) for r in results], 1),
        row("grid 5x9 click-to-center, fit of captured points: median", "deg", stat(captured, 50)),
        row("grid 5x9 click-to-center, fit of truth, same pixels (floor): median", "deg", stat(floor, 50)),
        row("grid 5x9: captured minus floor, medians (target <= 0.05)", "deg",
            stat(captured, 50) - stat(floor, 50)),
        row("grid 5x9 click-to-center, fit of captured points: p95", "deg", stat(captured, 95)),
        row("grid 5x9 click-to-center, fit of truth, same pixels (floor): p95", "deg", stat(floor, 95)),
        row("PTZ moves per point, per unit that did not fail (target <= 4)", "moves",
            [r["moves"] / n for r, n in zip(done, points)], 2),
        row("PTZ snapshots per point, per unit that did not fail", "snapshots",
            [r["snapshots"] / n for r, n in zip(done, points)], 2),
        row("wall time per head, per unit that did not fail (PTZ at %g deg/s)" % speed, "s",
            [r["seconds"] / len(r["heads"]) for r in done], 1),
    ]


def _sweep(twin: Twin, first: int) -> tuple[list[dict], list[str]]:
    """Each setting on SWEEP_UNITS fresh units, set before their capture; the units captured SWEEP_WORKERS at once."""
    jobs = []
    for number, (label, values) in enumerate(SWEEP):
        for index in range(first + number * SWEEP_UNITS, first + (number + 1) * SWEEP_UNITS):
            twin.settings(twin.host(index), **values)
            jobs.append((label, twin.host(index)))
    with ThreadPoolExecutor(max_workers=SWEEP_WORKERS) as pool:
        results = list(pool.map(lambda job: _capture(twin, job[1]), jobs))
    rows, notes = [], []
    for label, _values in SWEEP:
        mine = [r for (name, _unit), r in zip(jobs, results) if name == label]
        for result in mine:
            _truths(twin, result)
        errors = _errors(mine)
        failed, _missing = _heads(mine)
        rows += [row("sweep, %s: captured vs truth, median" % label, "deg", stat(errors, 50)),
                 row("sweep, %s: captured vs truth, p95" % label, "deg", stat(errors, 95)),
                 row("sweep, %s: heads failed (of %d)" % (label, len(CAMERAS) * len(mine)), "heads", failed, 0)]
        notes += _failures(label, mine)
    return rows, notes


def run() -> tuple[list[dict], list[str]]:
    cv2.setNumThreads(1)
    started = time.monotonic()
    notes = []
    with tempfile.TemporaryDirectory() as workdir:
        with Twin(UNITS + SWEEP_UNITS * len(SWEEP), workdir=workdir) as twin:
            results = []
            for index in range(UNITS):
                results.append(_capture(twin, twin.host(index)))
                _truths(twin, results[-1])
            speed = twin.control(twin.host(0), "GET", "/settings")["ptz_speed"]
            rows = _main_rows(twin, results, speed)
            notes += _failures("default", results)
            sweep_rows, sweep_notes = _sweep(twin, UNITS)
    rows += sweep_rows
    notes += sweep_notes
    rows.append(row("the whole section", "s", time.monotonic() - started, 0))
    return rows, notes

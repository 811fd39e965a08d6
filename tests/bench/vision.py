"""The vision section: calibration_capture (plugins/module_utils/vision/capture.py) against the twin's truth.

`python -m tests.bench --only vision` runs the capture in-process (`execute`, as the module does) against a
twin fleet, one unit after another, all heads per unit, twice: on units with the twin's default settings
("plain") and on units with the site's settings ("site": SITE, set on each unit before its capture: sway,
traffic, a fisheye head lens, click-to-zoom, integer-only clicks, positions with 2 decimals). Each variant is
scored against the twin's truth only:

- the angle between each captured pan/tilt and the truth at the written pixel (median, p95, max);
- click-to-center over scene's 5 x 9 grid with the twin's own fit (tests/emulator/optics.py) of the captured
  points, beside the same fit of the truth at the same pixels (the floor parallax sets); both fits go through
  the lens family the unit's twin uses (`head_lens`), as its firmware's fit would;
- PTZ moves per head, counted by the twin itself: every command that moved the PTZ (absolute and relative
  moves, `move=home`, `center=` and `areazoom=` on either device, the put-back included; queries are not).
  The twin counts them once an operator's move has happened, so each unit gets a person who "moves" the PTZ
  to where it already rests just before the capture (`commands_after`); the module's own count plus one for
  its put-back is shown beside it as a cross-check;
- wall time per unit less the idle check (`ptz_idle` passed explicitly and subtracted), controller CPU
  seconds per head (time.process_time over the in-process capture; the twin runs in another process, so its
  CPU is not counted) and this process's peak memory (ru_maxrss) after each variant.

Then a sweep of depth scale and sensor noise, on plain units, set on fresh units before their capture.
One measurement each (no repeats); one core for OpenCV and BLAS in this process.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# pylint: disable=wrong-import-position
import math  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import cv2  # noqa: E402

from tests.bench import collection  # noqa: E402
from tests.bench.rows import row, short, stat  # noqa: E402
from tests.bench.scene import GRID  # noqa: E402
from tests.emulator.optics import Point, angular_distance, fit, wrap180  # noqa: E402
from tests.emulator.process import Twin  # noqa: E402

UNITS = 6  # units per variant captured one after another, for the figures against truth, the grid and the timing
CAMERAS = (1, 2, 3, 4)
RESOLUTION = "1920x1080"
PTZ_RESOLUTION = "1280x720"
POINTS = 5
PTZ_IDLE = 3.0  # seconds the capture waits for the PTZ to stay idle before its first move (the module's default)
SITE = {"sway": 0.05, "traffic": True, "head_lens": "fisheye", "click_zoom": 2.0, "integer_center": True,
        "position_decimals": 2}
VARIANTS = (("plain", {}), ("site", SITE))
SWEEP_UNITS = 2  # fresh units per sweep setting
SWEEP = (("depth scale 0.5", {"depth_scale": 0.5}), ("depth scale 2", {"depth_scale": 2.0}),
         ("noise 0.03", {"noise": 0.03}), ("noise 0.06", {"noise": 0.06}))
SWEEP_WORKERS = 2  # sweep units captured at once (no time is reported for them)
# The targets, printed in the row names (not asserted).
TARGET_MEDIAN, TARGET_P95 = 0.03, 0.10  # captured vs truth, degrees
TARGET_GRID = 0.02  # grid click-to-center, captured minus floor (medians), degrees
TARGET_MOVES_HEAD, TARGET_MOVES_UNIT = 12, 10  # at most 12 moves per head plus at most 10 once per unit
TARGET_CPU = 5.0  # controller CPU seconds per head
TITLE = "vision: calibration_capture against the twin's truth (%d units per variant, heads %s, %s heads, %s PTZ)" % (
    UNITS, ",".join(map(str, CAMERAS)), RESOLUTION, PTZ_RESOLUTION)


def _count_moves(twin: Twin, unit: str) -> None:
    """Make the twin count the unit's moving commands from now on: its counter (`commands_after`) runs once an
    operator's move has happened, so a person sends the PTZ, at once, to where it rests already."""
    ptz = twin.state(unit)["ptz"]
    answer = twin.operator(unit, 0, ptz["pan"], ptz["tilt"], int(ptz["zoom"]))
    if not answer["happened"] or answer["commands_after"]:
        raise RuntimeError("%s: the twin's move counter did not start: %s" % (unit, answer))


def _capture(twin: Twin, unit: str, values: dict | None = None) -> dict:
    """One unit's capture result with the unit's settings applied first, its wall time, this process's CPU time
    over it, the twin's count of moving commands and the unit's lens family."""
    if values:
        twin.settings(unit, **values)
    lens = twin.control(unit, "GET", "/settings")["head_lens"]
    _count_moves(twin, unit)
    task = collection.options(twin, unit, cameras=list(CAMERAS), points=POINTS, resolution=RESOLUTION,
                              ptz_resolution=PTZ_RESOLUTION, ptz_idle=PTZ_IDLE)
    started, cpu = time.monotonic(), time.process_time()
    result = collection.run("vision.capture", task)
    result["cpu"] = time.process_time() - cpu
    result["seconds"] = time.monotonic() - started
    result["unit"], result["lens"] = unit, lens
    result["twin_moves"] = twin.operator_state(unit)["commands_after"]
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
    """Click-to-center errors over GRID: the twin's fit of the captured points, and of the truth at those pixels,
    both through the unit's lens family (a fisheye head's truth is not a one-term radial lens)."""
    captured, floor = [], []
    for result in results:
        family = result["lens"]
        for head in result.get("heads") or []:
            camera = head["camera"]
            mine = fit(camera, [Point(p["x"], p["y"], p["pan"], p["tilt"]) for p in head["points"]], family)
            best = fit(camera, [Point(t["x"], t["y"], t["pan"], t["tilt"]) for t in head["truths"]], family)
            for t in twin.truths(result["unit"], camera, GRID):
                captured.append(angular_distance(*mine.direction(t["x"], t["y"]), t["pan"], t["tilt"]))
                floor.append(angular_distance(*best.direction(t["x"], t["y"]), t["pan"], t["tilt"]))
    return captured, floor


def _failures(label: str, results: list[dict]) -> list[str]:
    return ["failed (%s): %s: %s" % (label, r["unit"], short(r.get("msg", ""))) for r in results if _failed(r)]


def _failed(result: dict) -> bool:
    return bool(result.get("failed") or result.get("unreachable"))


def _heads(results: list[dict]) -> tuple[int, int]:
    """(units whose run failed, heads asked for that came back without points): a failure ends the unit's run."""
    failed = sum(1 for r in results if _failed(r))
    return failed, len(CAMERAS) * len(results) - sum(len(r.get("heads") or []) for r in results)


def _peak_mb() -> float:
    """This process's peak resident memory so far, MB (ru_maxrss is kB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2 ** 20 if sys.platform == "darwin" else peak / 1024


def _variant_rows(twin: Twin, label: str, results: list[dict], speed: float) -> tuple[list[dict], list[str]]:
    errors = _errors(results)
    failed, missing = _heads(results)
    captured, floor = _grid(twin, results)
    heads = len(CAMERAS)
    twin_moves = [r["twin_moves"] for r in results]
    own_moves = [r.get("moves", float("nan")) + 1 for r in results]
    notes = _failures(label, results)
    for result, theirs, mine in zip(results, twin_moves, own_moves):
        if theirs != mine:
            notes.append("%s: %s: the twin counted %d moving commands, the module %s plus 1 put-back"
                         % (label, result["unit"], theirs, result.get("moves")))
        for head in result.get("failed_heads") or []:
            notes.append("%s: %s: camera %s not captured: %s"
                         % (label, result["unit"], head.get("camera"), short((head.get("reasons") or [""])[0])))
        if result.get("put_back_error"):
            notes.append("%s: %s: put-back failed: %s" % (label, result["unit"], short(result["put_back_error"])))

    def named(metric: str) -> str:
        return "%s: %s" % (label, metric)

    rows = [
        row(named("captured vs truth: median (target <= %g)" % TARGET_MEDIAN), "deg", stat(errors, 50)),
        row(named("captured vs truth: p95 (target <= %g)" % TARGET_P95), "deg", stat(errors, 95)),
        row(named("captured vs truth: max"), "deg", max(errors, default=float("nan"))),
        row(named("points captured"), "points", len(errors), 0),
        row(named("units failed (of %d)" % len(results)), "units", failed, 0),
        row(named("heads without points (of %d; a failure ends its unit's run)" % (heads * len(results))), "heads",
            missing, 0),
        row(named("targets refused per head, per unit"), "targets",
            [len(r.get("refused") or []) / heads for r in results], 1),
        row(named("grid 5x9 click-to-center, fit of captured points: median"), "deg", stat(captured, 50)),
        row(named("grid 5x9 click-to-center, fit of truth, same pixels (floor): median"), "deg", stat(floor, 50)),
        row(named("grid 5x9: captured minus floor, medians (target <= %g)" % TARGET_GRID), "deg",
            stat(captured, 50) - stat(floor, 50)),
        row(named("grid 5x9 click-to-center, fit of captured points: p95"), "deg", stat(captured, 95)),
        row(named("grid 5x9 click-to-center, fit of truth, same pixels (floor): p95"), "deg", stat(floor, 95)),
        row(named("moves per head, twin's count incl. put-back, per unit (target <= %d per head + %d per unit)"
                  % (TARGET_MOVES_HEAD, TARGET_MOVES_UNIT)), "moves", [m / heads for m in twin_moves], 2),
        row(named("moves per unit beyond %d per head, twin's count (target <= %d)"
                  % (TARGET_MOVES_HEAD, TARGET_MOVES_UNIT)), "moves",
            [m - TARGET_MOVES_HEAD * heads for m in twin_moves], 0),
        row(named("moves per head, module's count + 1 put-back (cross-check), per unit"), "moves",
            [m / heads for m in own_moves], 2),
        row(named("PTZ snapshots per head, per unit"), "snapshots",
            [r.get("snapshots", float("nan")) / heads for r in results], 1),
        row(named("wall time per unit less the idle check (ptz_idle=%g s, subtracted; PTZ at %g deg/s)"
                  % (PTZ_IDLE, speed)), "s", [r["seconds"] - PTZ_IDLE for r in results], 1),
        row(named("controller CPU per head, this process (twin excluded), per unit (target < %g)" % TARGET_CPU),
            "s", [r["cpu"] / heads for r in results], 2),
        row(named("peak memory of this process so far (ru_maxrss)"), "MB", _peak_mb(), 0),
    ]
    return rows, notes


def _sweep(twin: Twin, first: int) -> tuple[list[dict], list[str]]:
    """Each setting on SWEEP_UNITS fresh units, set before their capture; the units captured SWEEP_WORKERS at once."""
    jobs = []
    for number, (label, values) in enumerate(SWEEP):
        for index in range(first + number * SWEEP_UNITS, first + (number + 1) * SWEEP_UNITS):
            jobs.append((label, values, twin.host(index)))
    with ThreadPoolExecutor(max_workers=SWEEP_WORKERS) as pool:
        results = list(pool.map(lambda job: _capture(twin, job[2], job[1]), jobs))
    rows, notes = [], []
    for label, _values in SWEEP:
        mine = [r for (name, _settings, _unit), r in zip(jobs, results) if name == label]
        for result in mine:
            _truths(twin, result)
        errors = _errors(mine)
        _failed_units, missing = _heads(mine)
        rows += [row("sweep (plain), %s: captured vs truth, median" % label, "deg", stat(errors, 50)),
                 row("sweep (plain), %s: captured vs truth, p95" % label, "deg", stat(errors, 95)),
                 row("sweep (plain), %s: heads without points (of %d)" % (label, len(CAMERAS) * len(mine)),
                     "heads", missing, 0)]
        notes += _failures("sweep, " + label, mine)
    return rows, notes


def run() -> tuple[list[dict], list[str]]:
    cv2.setNumThreads(1)
    started = time.monotonic()
    notes = ["site: %s, set on each unit before its capture; plain: the twin's defaults"
             % ", ".join("%s=%s" % item for item in SITE.items()),
             "moves: the twin's count of commands that moved the PTZ (either device, put-back included, queries "
             "not), started per unit by an operator 'move' to where the PTZ rests; targets: <= %d per head + %d "
             "per unit" % (TARGET_MOVES_HEAD, TARGET_MOVES_UNIT),
             "CPU: time.process_time over the in-process capture (the twin's process not counted); wall time "
             "less ptz_idle=%g s; grid fits through each unit's head_lens" % PTZ_IDLE]
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        with Twin(UNITS * len(VARIANTS) + SWEEP_UNITS * len(SWEEP), workdir=workdir) as twin:
            speed = twin.control(twin.host(0), "GET", "/settings")["ptz_speed"]
            for number, (label, values) in enumerate(VARIANTS):
                results = []
                for index in range(number * UNITS, (number + 1) * UNITS):
                    results.append(_capture(twin, twin.host(index), values))
                    _truths(twin, results[-1])
                variant_rows, variant_notes = _variant_rows(twin, label, results, speed)
                rows += variant_rows
                notes += variant_notes
            sweep_rows, sweep_notes = _sweep(twin, UNITS * len(VARIANTS))
    rows += sweep_rows
    notes += sweep_notes
    rows.append(row("the whole section", "s", time.monotonic() - started, 0))
    return rows, notes

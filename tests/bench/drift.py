"""The drift section: remote_calibration's image drift check over a twin fleet, against the knocks the twin made.

`python -m tests.bench --only drift` links UNITS units, calibrates one head of each (heads 1 to 4 in turn)
with drift_method image from the twin's truth at pixels that see content (so a baseline is recorded, and
nearer content carries the steady parallax offset the baseline is there for), knocks a few mounts by KNOCKS,
then runs the check with both methods on every unit. Scored against the knocks alone: a knocked head found
is a detection, a flagged unknocked head a false alarm, and the offset read is compared with the knock. The
work runs in-process (`execute`, as the modules do), WORKERS units at once, pictures at PICTURES.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from tests.bench import collection
from tests.bench.rows import row, short, stat
from tests.emulator.process import Twin
from tests.sites import CANDIDATES

UNITS = 50
KNOCKS = {3: 0.5, 11: -0.5, 19: 1.0, 27: -1.0, 35: 3.0, 43: -3.0}  # unit index -> degrees of pan
PICTURES = ("1280x720", "640x360")  # the heads' and the PTZ's snapshots, as the tests take them
IMAGE = {"drift_method": "image", "resolution": PICTURES[0], "ptz_resolution": PICTURES[1]}
POINTS = 5
# Points are picked among the head's farthest content pixels; where the device cannot fit them (error 51: the
# parallax of nearer content), among fewer and farther ones.
POOLS = (POINTS * 3, POINTS)
WORKERS = 2
TITLE = "drift: the image drift check over %d units against the twin's knocks (%s) (one head per unit, %s/%s)" % (
    UNITS, ", ".join("%+g" % k for k in sorted(KNOCKS.values())), *PICTURES)


def _content_points(twin: Twin, unit: str, camera: int, pool_size: int) -> list[dict]:
    """POINTS well-spread pixels among the head's `pool_size` farthest that see content (not the sky): the truth
    there."""
    truths = [t for t in twin.truths(unit, camera, CANDIDATES) if t["depth"] is not None]
    truths.sort(key=lambda t: -t["depth"])
    pool = truths[:pool_size]
    chosen = [pool[0]]
    while len(chosen) < POINTS:
        chosen.append(max(pool, key=lambda t: min((t["x"] - c["x"]) ** 2 + (t["y"] - c["y"]) ** 2 for c in chosen)))
    return [{"x": t["x"], "y": t["y"], "pan": round(t["pan"], 4), "tilt": round(t["tilt"], 4)} for t in chosen]


def _prepare(twin: Twin, index: int) -> dict:
    """Link the unit, calibrate one head from the truth with a baseline; the head as the inventory keeps it."""
    unit, camera = twin.host(index), 1 + index % 4
    hv = twin.hosts[unit]
    linked = collection.run("link", collection.options(
        twin, unit, remote_host=hv["q6000_remote_host"], http_port=hv["q6000_remote_http_port"],
        wait_for_connection=True, wait_timeout=20, allow_password_over_http=True))
    if linked.get("failed"):
        return {"unit": unit, "failed": "link: %s" % linked["msg"]}
    for pool_size in POOLS:
        heads = [{"camera": camera, "points": _content_points(twin, unit, camera, pool_size)}]
        result = collection.run("calibration", collection.options(twin, unit, heads=heads, recalibrate="always",
                                                                  **IMAGE))
        if not result.get("failed"):
            return {"unit": unit, "heads": result["point_sets"]}
    return {"unit": unit, "failed": "calibrate: %s" % result["msg"]}


def _check(twin: Twin, prepared: dict) -> dict:
    """Both methods on a unit: flagged or not, the image method's offset from its baseline and its wall time."""
    unit, heads = prepared["unit"], prepared["heads"]
    points = collection.run("calibration", collection.options(twin, unit, heads=heads, recalibrate="when_drifted"))
    started = time.monotonic()
    image = collection.run("calibration", collection.options(twin, unit, heads=heads, recalibrate="when_drifted",
                                                             **IMAGE))
    seconds = time.monotonic() - started
    checked = {"unit": unit, "seconds": seconds, "points": _flagged(points), "image": _flagged(image)}
    drift = [entry["drift"] for entry in image.get("heads") or [] if entry.get("drift")]
    if drift and drift[0].get("pan") is not None:
        baseline = heads[0]["baseline"]
        checked["offset"] = (drift[0]["pan"] - baseline["pan"], drift[0]["tilt"] - baseline["tilt"])
    elif image.get("failed"):
        checked["error"] = image["msg"]
    return checked


def _flagged(result: dict) -> bool | None:
    """True or False as the check judged the head; None when it could not judge (a failure other than drift)."""
    drift = [entry.get("drift") or {} for entry in result.get("heads") or []]
    if drift and all("flagged" in d for d in drift):
        return any(d["flagged"] for d in drift)
    return None


def _rows(twin: Twin, checks: list[dict]) -> tuple[list[dict], list[str]]:
    knock_of = {twin.host(index): degrees for index, degrees in KNOCKS.items()}
    rows, notes = [], []
    for size in sorted({abs(k) for k in KNOCKS.values()}):
        knocked = [c for c in checks if abs(knock_of.get(c["unit"], 0.0)) == size]
        rows += [
            row("knock of %g deg: found by the image check (of %d)" % (size, len(knocked)), "heads",
                sum(1 for c in knocked if c["image"] is True), 0),
            row("knock of %g deg: found by the points method (of %d)" % (size, len(knocked)), "heads",
                sum(1 for c in knocked if c["points"] is True), 0),
            row("knock of %g deg: offset read minus knock, worst pan" % size, "deg",
                max((abs(c["offset"][0] - knock_of[c["unit"]]) for c in knocked if "offset" in c),
                    default=float("nan"))),
        ]
    steady = [c for c in checks if c["unit"] not in knock_of]
    moved = [math.hypot(*c["offset"]) for c in steady if "offset" in c]
    rows += [
        row("unknocked: false alarms of the image check (of %d)" % len(steady), "heads",
            sum(1 for c in steady if c["image"] is True), 0),
        row("unknocked: false alarms of the points method (of %d)" % len(steady), "heads",
            sum(1 for c in steady if c["points"] is True), 0),
        row("unknocked: moved from the baseline, median", "deg", stat(moved, 50)),
        row("unknocked: moved from the baseline, max", "deg", max(moved, default=float("nan"))),
        row("heads the image check could not judge (of %d)" % len(checks), "heads",
            sum(1 for c in checks if c["image"] is None), 0),
        row("image check wall time per head (%d at once)" % WORKERS, "s", stat([c["seconds"] for c in checks], 50), 1),
    ]
    notes += ["not judged: %s: %s" % (c["unit"], short(c["error"])) for c in checks if "error" in c]
    return rows, notes


def run() -> tuple[list[dict], list[str]]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as workdir, Twin(UNITS, workdir=os.path.join(workdir, "twin")) as twin:
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            prepared = list(pool.map(lambda index: _prepare(twin, index), range(UNITS)))
            notes = ["not prepared: %s: %s" % (p["unit"], short(p["failed"])) for p in prepared if "failed" in p]
            for index, degrees in KNOCKS.items():
                twin.knock(twin.host(index), degrees)
            checks = list(pool.map(lambda p: _check(twin, p), [p for p in prepared if "heads" in p]))
        rows, more = _rows(twin, checks)
    rows.insert(0, row("heads calibrated, with a baseline (of %d)" % UNITS, "heads", len(checks), 0))
    rows.append(row("the whole section", "s", time.monotonic() - started, 0))
    return rows, notes + more

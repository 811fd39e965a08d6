"""The world's section: Scene.generate, PTZ and head views at 1920x1080, memory per scene.

`python -m tests.bench.scene` prints medians of 5 runs. One core: cv2.setNumThreads(1), and the BLAS
thread variables are set to 1 before numpy loads (numpy's element-wise work is single-threaded anyway;
the only matrix products are N x 3 by 3 x 3). PTZ views are rendered at half resolution and upscaled
(render_view's default); the head view at full resolution (the caller renders it once and caches it).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# pylint: disable=wrong-import-position
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from tests.emulator.render import render_view  # noqa: E402
from tests.emulator.scene import Scene, noise_table  # noqa: E402

TITLE = "scene: the twin's world and renderer (one core)"
RUNS = 5
ORIGIN_HEADS = (0.0, 0.0, 8.0)
ORIGIN_PTZ = (0.0, 0.0, 7.75)


def _timed(func, runs=RUNS):
    values = []
    for _i in range(runs):
        start = time.perf_counter()
        func()
        values.append(time.perf_counter() - start)
    return values


def run() -> list[dict]:
    cv2.setNumThreads(1)
    noise_table()
    scene = Scene.generate(1, 0)
    counter = iter(range(10 ** 6))
    probe = np.ones(10 ** 6, dtype=np.float32)
    rows = [{"metric": "machine: a*b+c on 1e6 float32 (for scale)", "unit": "ms", "digits": 2,
             "runs": [1e3 * v for v in _timed(lambda: probe * probe + probe)]},
            {"metric": "Scene.generate", "unit": "ms", "digits": 3,
             "runs": [1e3 * v for v in _timed(lambda: Scene.generate(1, next(counter)))]}]
    for name, (origin, pan, tilt, hfov, scale) in {
            "PTZ view 1920x1080, wide 62 deg (rendered 960x540)": (ORIGIN_PTZ, 30.0, -10.0, 62.0, 0.5),
            "PTZ view 1920x1080, tele 2.2 deg (rendered 960x540)": (ORIGIN_PTZ, 30.0, -10.0, 2.2, 0.5),
            "head view 1920x1080, 110 deg (full resolution)": (ORIGIN_HEADS, 30.0, -20.0, 110.0, 1.0)}.items():
        runs = _timed(lambda o=origin, p=pan, t=tilt, f=hfov, s=scale:
                      render_view(scene, o, p, t, 0.0, f, 1920, 1080, scale=s))
        rows.append({"metric": name, "unit": "ms", "digits": 0, "runs": [1e3 * v for v in runs]})
    sizes, peaks = [], []
    for i in range(RUNS):
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        fresh = Scene.generate(2, i)
        sizes.append((tracemalloc.get_traced_memory()[0] - before) / 1024.0)
        tracemalloc.reset_peak()
        render_view(fresh, ORIGIN_PTZ, 0.0, -10.0, 62.0, 0.0, 1920, 1080)
        peaks.append((tracemalloc.get_traced_memory()[1] - before) / 2 ** 20)
        tracemalloc.stop()
    rows.append({"metric": "memory per scene (object table)", "unit": "kB", "runs": sizes})
    rows.append({"metric": "peak memory of a PTZ 1920x1080 render", "unit": "MB", "runs": peaks})
    return rows


def main() -> int:
    for row in run():
        print(f"{row['metric']:<55} {statistics.median(row['runs']):>10.{row.get('digits', 2)}f} {row['unit']}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

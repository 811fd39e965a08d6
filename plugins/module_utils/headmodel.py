# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The device's own fit, redone here: the head model the Q6000-E fits to a point set behind its error 51.

A camera head as a pinhole camera on the PTZ's vertical axis, and a least-squares fit of it to points.
The device refuses a point set (error 51) without saying which point is wrong. Fitting the same physical
model to the set here tells the operator which measurements disagree with the others. Five unknowns: the
head's pan offset (its azimuth plus the mount offset), its downward tilt, its roll, its horizontal field
of view and the first radial term of its wide lens (r_undistorted = r (1 + k r^2), r in half image widths);
without that term a wide head's points miss a pinhole fit by up to a degree and a bad point hides among
them. The image has the Q6000-E's 16:9 aspect. Pure Python: the modules run where numpy may not exist.
"""

from __future__ import annotations

import math

ASPECT = 9.0 / 16.0
# pan offset, downward tilt, roll, horizontal field of view (degrees), radial term
NOMINAL = (0.0, 20.0, 0.0, 110.0, 0.0)
BOUNDS = ((-1e9, 1e9), (-90.0, 90.0), (-180.0, 180.0), (10.0, 170.0), (-0.5, 0.5))


def wrap180(angle):
    """An angle in degrees folded into (-180, 180]."""
    angle = math.fmod(angle + 180.0, 360.0)
    if angle <= 0:
        angle += 360.0
    return angle - 180.0


def project(x, y, params):
    """Pan and tilt (degrees) at which the head with `params` sees normalized pixel (x, y)."""
    pan0, down, roll, fov, radial = params
    half = math.tan(math.radians(fov) / 2.0)
    stretch = half * (1.0 + radial * (x * x + (y * ASPECT) ** 2))
    right, up, forward = x * stretch, y * ASPECT * stretch, 1.0
    c, s = math.cos(math.radians(roll)), math.sin(math.radians(roll))
    right, up = right * c - up * s, right * s + up * c
    c, s = math.cos(math.radians(down)), math.sin(math.radians(down))
    up, forward = up * c - forward * s, up * s + forward * c
    pan = pan0 + math.degrees(math.atan2(right, forward))
    tilt = math.degrees(math.atan2(up, math.hypot(right, forward)))
    return wrap180(pan), tilt


def angular_distance(pan1, tilt1, pan2, tilt2):
    """Great-circle angle in degrees between two pan/tilt directions."""
    p1, t1, p2, t2 = (math.radians(v) for v in (pan1, tilt1, pan2, tilt2))
    cos_angle = math.sin(t1) * math.sin(t2) + math.cos(t1) * math.cos(t2) * math.cos(p1 - p2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos_angle))))


def _residuals(points, params):
    out = []
    for x, y, pan, tilt in points:
        p, t = project(x, y, params)
        out.append(wrap180(p - pan) * math.cos(math.radians(tilt)))
        out.append(t - tilt)
    return out


def _solve(matrix, vector):
    """Gaussian elimination with partial pivoting; None when singular."""
    n = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            f = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= f * a[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return x


def nominal_head(points):
    """Nominal head with the pan offset that best explains the points' pans (a circular mean)."""
    sx = sy = 0.0
    for x, y, pan, _tilt in points:
        p, _t = project(x, y, NOMINAL)
        d = math.radians(pan - p)
        sx += math.cos(d)
        sy += math.sin(d)
    return (math.degrees(math.atan2(sy, sx)),) + NOMINAL[1:]


def fit(points, iterations=60, radial=None):
    """Levenberg-Marquardt fit of the head model to (x, y, pan, tilt) points.

    `radial`: the lens term held at this value (fitted when None). Returns (params, per-point angular
    residuals in degrees).
    """
    params = list(nominal_head(points))
    free = list(range(len(params)))
    if radial is not None:
        params[4] = radial
        free.remove(4)
    lam = 1e-3
    cost = sum(r * r for r in _residuals(points, params))
    for _iteration in range(iterations):
        res = _residuals(points, params)
        jac = []
        for k in free:
            step = 1e-6 * max(1.0, abs(params[k]))
            shifted = params[:]
            shifted[k] += step
            jac.append([(b - a) / step for a, b in zip(res, _residuals(points, shifted))])
        size = len(free)
        jtj = [[sum(jac[i][m] * jac[j][m] for m in range(len(res))) for j in range(size)] for i in range(size)]
        jtr = [-sum(jac[i][m] * res[m] for m in range(len(res))) for i in range(size)]
        improved = False
        while lam < 1e9:
            damped = [[jtj[i][j] * (1.0 + lam if i == j else 1.0) for j in range(size)] for i in range(size)]
            delta = _solve(damped, jtr)
            if delta is None:
                lam *= 10.0
                continue
            trial = params[:]
            for k, d in zip(free, delta):
                trial[k] = min(max(params[k] + d, BOUNDS[k][0]), BOUNDS[k][1])
            trial_cost = sum(r * r for r in _residuals(points, trial))
            if trial_cost < cost:
                params, cost, lam, improved = trial, trial_cost, max(lam / 10.0, 1e-9), True
                break
            lam *= 10.0
        if not improved or cost < 1e-14:
            break
    residuals = []
    for x, y, pan, tilt in points:
        p, t = project(x, y, params)
        residuals.append(angular_distance(p, t, pan, tilt))
    params[0] = wrap180(params[0])
    return tuple(params), residuals


def worst_points_ranked(points):
    """[(index, degrees)] of the points, worst first: first those whose removal leaves the others fitting best,
    each with its distance from the fit of the others (from the fit of all, for fewer than four points).

    A point's residual in a fit that includes it understates its error, since the fit leans towards it, and a
    lens the pinhole model lacks spreads error over every point. A fit of the others still leans towards any
    other bad point among them, so the ranking is by how well the others agree once a point is left out.
    """
    pairs = [(p["x"], p["y"], p["pan"], p["tilt"]) for p in points]
    if len(pairs) < 4:
        _params, errors = fit(pairs)
        order = sorted(range(len(pairs)), key=lambda i: -errors[i])
    else:
        # Three points cannot fix five unknowns: for a set of four, the lens (one for all points) is held at the
        # fit of all of them.
        lens = fit(pairs)[0][4] if len(pairs) == 4 else None
        errors, spread = [], []
        for i, (x, y, pan, tilt) in enumerate(pairs):
            params, residuals = fit(pairs[:i] + pairs[i + 1:], radial=lens)
            errors.append(angular_distance(pan, tilt, *project(x, y, params)))
            spread.append(sum(r * r for r in residuals))
        order = sorted(range(len(pairs)), key=lambda i: (spread[i], -errors[i]))
    return [(i, errors[i]) for i in order]


def worst_points(points, count=3):
    """The `count` worst points as text: "point 1 (1.88 degrees off), ..."."""
    return ", ".join("point %d (%.2f degrees off)" % ranked for ranked in worst_points_ranked(points)[:count])

# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift as a rotation: how the Q6000-E turned against the PTZ, from head pixels seen on two nights.

A knock turns the Q6000-E about its centre, so every pixel of a head now looks where the turn sends the
direction it looked before. From pairs (a pixel's direction at the baseline, the same pixel's direction tonight)
the turn is the rotation that best maps the first onto the second (Kabsch, with the worst pairs left out while
they stand far from the rest), and its uncertainty follows from the pairs' spread and how well they agree. A
mean offset sees only a turn about the vertical; a rotation also sees a tilted mount and a turn about the head's
own axis, and does not move when some pairs are lost.

Axes are the twin's knock axes, in the PTZ's frame (x east at pan 90, y north at pan 0, z up): yaw about z
(pan grows), then pitch about x (a northward direction rises), then roll about y (an eastward one sinks):
R = R_roll R_pitch R_yaw.
"""

from __future__ import annotations

import math

try:
    import numpy as np
except ImportError:  # the image work says what to install (matching.HAS_VISION) before it gets here
    np = None

MIN_PAIRS = 3  # a rotation has three degrees of freedom
SPREAD = math.radians(4.0)  # pairs closer together than this, about any axis, do not fix a rotation
NOISE_FLOOR = 0.02  # degrees: the least noise per pair assumed, so that a lucky fit is not taken for certainty
OUTLIER = 3.0  # a pair this many times the others' RMS residual away (and beyond OUTLIER_FLOOR) is left out
OUTLIER_FLOOR = 0.15  # degrees
DISAGREE = 0.3  # degrees: a pair this far from the fitted turn was found in the wrong place, or the head moved alone


def directions(pans, tilts):
    """Unit vectors (east, north, up) of pan/tilt directions in degrees."""
    p, t = np.radians(np.asarray(pans, float)), np.radians(np.asarray(tilts, float))
    return np.stack([np.sin(p) * np.cos(t), np.cos(p) * np.cos(t), np.sin(t)], axis=-1)


def _kabsch(before, after):
    """The rotation R minimising the squared distances of R before[i] to after[i]."""
    u, _s, vt = np.linalg.svd(before.T @ after)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def angles(rotation):
    """(yaw, pitch, roll, angle) in degrees of a rotation matrix, in the knock axes (see the module)."""
    yaw = math.degrees(math.atan2(-rotation[1, 0], rotation[1, 1]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, -rotation[1, 2]))))
    roll = math.degrees(math.atan2(rotation[0, 2], rotation[2, 2]))
    angle = math.degrees(math.acos(max(-1.0, min(1.0, (np.trace(rotation) - 1.0) / 2.0))))
    return yaw, pitch, roll, angle


def _residuals(rotation, before, after):
    """Degrees between each pair's direction tonight and where the rotation sends its baseline direction."""
    turned = before @ rotation.T
    return np.degrees(np.arccos(np.clip(np.sum(turned * after, axis=1), -1.0, 1.0)))


class RotationError(ValueError):
    """The pairs cannot fix a rotation (too few, or too close together)."""


def fit(before, after):
    """The rotation from `before` to `after` ((n, 2) pan/tilt pairs, degrees): a dict of yaw, pitch, roll and
    angle, its uncertainty (one standard deviation of the angle, degrees), the pairs used and the pairs left
    out (their indices). RotationError when fewer than MIN_PAIRS well-spread pairs remain."""
    if len(before) < MIN_PAIRS:
        raise RotationError("%d pair(s): a rotation needs %d well-spread ones" % (len(before), MIN_PAIRS))
    before, after = np.asarray(before, float), np.asarray(after, float)
    b, a = directions(before[:, 0], before[:, 1]), directions(after[:, 0], after[:, 1])
    used = np.arange(len(b))
    while True:
        _spread_checked(a[used])
        rotation = _kabsch(b[used], a[used])
        residuals = _residuals(rotation, b[used], a[used])
        if len(used) <= MIN_PAIRS:
            break
        worst = int(np.argmax(residuals))
        others = np.delete(residuals, worst)
        if residuals[worst] <= max(OUTLIER * math.sqrt(np.mean(others ** 2)), OUTLIER_FLOOR):
            break
        used = np.delete(used, worst)
    yaw, pitch, roll, angle = angles(rotation)
    return {"yaw": yaw, "pitch": pitch, "roll": roll, "angle": angle,
            "uncertainty": _uncertainty(rotation, a[used], residuals), "worst": float(np.max(residuals)),
            "pairs": len(used), "left_out": sorted(set(range(len(b))) - set(used.tolist()))}


def _information(directions_):
    """The normal matrix of a small turn fitted to these directions: sum of (I - c c^T)."""
    return len(directions_) * np.eye(3) - directions_.T @ directions_


def _spread_checked(found):
    if len(found) < MIN_PAIRS:
        raise RotationError("%d pair(s): a rotation needs %d well-spread ones" % (len(found), MIN_PAIRS))
    if np.linalg.eigvalsh(_information(found))[0] / len(found) < math.sin(SPREAD) ** 2:
        raise RotationError("the %d pairs lie too close together (or on one line) to fix a rotation" % len(found))


# Student's t at 97.5 % by degrees of freedom (beyond the table, the normal 1.96): how much wider than the normal
# a spread estimated from so few residuals must be taken.
T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23, 11: 2.20,
        12: 2.18, 13: 2.16, 14: 2.14, 15: 2.13, 20: 2.09, 25: 2.06, 30: 2.04}


def _widening(dof):
    """t(97.5 %, dof) / 1.96: the factor by which a standard deviation estimated with `dof` degrees of freedom is
    widened, so that twice it bounds the truth as often as twice a known one would."""
    known = [d for d in T975 if d <= dof]
    return (T975[max(known)] if dof <= max(T975) else 1.96) / 1.96


def _uncertainty(rotation, found, residuals):
    """One standard deviation (degrees) of the fitted angle: the small-turn covariance, sigma^2 (sum of
    (I - c c^T))^-1, along the fitted axis (the largest direction when the turn is nil). Sigma per pair comes
    from the residuals (2 components a pair, 3 parameters), never below NOISE_FLOOR, and is widened for the few
    degrees of freedom three to five pairs leave (Student's t)."""
    dof = max(1, 2 * len(found) - 3)
    sigma = max(math.sqrt(float(np.sum(residuals ** 2)) / dof), NOISE_FLOOR) * _widening(dof)
    covariance = sigma ** 2 * np.linalg.inv(_information(found))
    axis = np.array([rotation[2, 1] - rotation[1, 2], rotation[0, 2] - rotation[2, 0], rotation[1, 0] - rotation[0, 1]])
    norm = np.linalg.norm(axis)
    if norm < 1e-9:
        return math.sqrt(float(np.linalg.eigvalsh(covariance)[-1]))
    axis /= norm
    return math.sqrt(float(axis @ covariance @ axis))


def judge(rotation, tolerance):
    """(status, reason) of a fitted rotation against the tolerance (degrees): not measured when its pairs do not
    agree on one turn (with a few pairs, one found in the wrong place fakes a turn that its uncertainty, taken
    from those same pairs, cannot show); drifted when even the angle less two standard deviations is beyond the
    tolerance; not measured when two standard deviations alone are. The pairs' bound is DISAGREE, or half the
    tolerance where that is wider: a wide tolerance is set for pairs known to scatter (a point set judged against
    itself, whose pixels' patches carry parallax)."""
    if rotation["worst"] > max(DISAGREE, tolerance / 2.0):
        return "not_measured", ("the %d pairs do not agree on one turn: one is %.2f degrees off it (a point found "
                                "in the wrong place?)" % (rotation["pairs"], rotation["worst"]))
    if rotation["angle"] - 2.0 * rotation["uncertainty"] > tolerance:
        return "drifted", None
    if 2.0 * rotation["uncertainty"] > tolerance:
        return "not_measured", ("too uncertain: 2 x %.3f degrees > the tolerance %s (%d pairs)"
                                % (rotation["uncertainty"], tolerance, rotation["pairs"]))
    return "ok", None

# -*- coding: utf-8 -*-
"""remote_calibration: point sets refused before any request, each refusal naming the head and the point."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils.calibration import validate
from ansible_collections.vapix.q6000.plugins.module_utils.errors import ValidationError

GOOD = [{"x": -0.6, "y": 0.5, "pan": 61.2, "tilt": -2.4}, {"x": 0.55, "y": 0.45, "pan": 124.7, "tilt": -4.1},
        {"x": 0.6, "y": -0.55, "pan": 121.9, "tilt": -38.0}, {"x": -0.5, "y": -0.6, "pan": 64.3, "tilt": -39.6}]


def params(heads=None, **values):
    base = {"heads": heads if heads is not None else [{"camera": 1, "points": copy.deepcopy(GOOD)}],
            "recalibrate": "when_uncalibrated", "min_points": 4, "abort_ongoing": False, "drift_tolerance": 1.0,
            "remote_username": None, "remote_password": None, "drift_method": "points", "recapture": False,
            "fit_budget": 0.5, "resolution": "1920x1080", "ptz_resolution": "1280x720"}
    base.update(values)
    return base


def with_point(index, **values):
    points = copy.deepcopy(GOOD)
    points[index].update(values)
    return params([{"camera": 1, "points": copy.deepcopy(GOOD)}, {"camera": 3, "points": points}])


def test_a_good_set_passes():
    validate(params())


@pytest.mark.parametrize("change, message", [
    ({"x": 1.01}, r"^heads\[1\]\.points\[2\] \(camera 3\)\.x: 1\.01 is outside -1\.0\.\.1\.0"),
    ({"y": -1.5}, r"^heads\[1\]\.points\[2\] \(camera 3\)\.y"),
    ({"x": float("nan")}, r"^heads\[1\]\.points\[2\] \(camera 3\)\.x: nan is not a finite number"),
    ({"pan": float("inf")}, r"^heads\[1\]\.points\[2\] \(camera 3\)\.pan: inf is not a finite number"),
    ({"tilt": -91.0}, r"^heads\[1\]\.points\[2\] \(camera 3\)\.tilt"),
    ({"x": 0.6, "y": -0.55}, r"^heads\[1\]\.points\[3\] \(camera 3\): the same pixel as point 2"),
])
def test_bad_points_are_named(change, message):
    index = 3 if "y" in change and "x" in change else 2
    with pytest.raises(ValidationError, match=message):
        validate(with_point(index, **change))


def test_too_few_points():
    with pytest.raises(ValidationError, match=r"^heads\[0\]\.points \(camera 1\): 3 point\(s\), at least min_points=4"):
        validate(params([{"camera": 1, "points": GOOD[:3]}]))


def test_empty_point_list():
    with pytest.raises(ValidationError, match=r"^heads\[0\]\.points \(camera 1\): 0 point"):
        validate(params([{"camera": 1, "points": []}]))


def test_points_on_one_line():
    line = [{"x": t, "y": 0.5 * t + 0.1, "pan": 10 * t, "tilt": -20 + 5 * t} for t in (-0.8, -0.3, 0.2, 0.7)]
    with pytest.raises(ValidationError, match=r"^heads\[0\]\.points \(camera 1\): all points lie on one line"):
        validate(params([{"camera": 1, "points": line}]))


def test_duplicate_camera():
    with pytest.raises(ValidationError, match=r"^heads\[1\]\.camera: camera 2 is already given in heads\[0\]"):
        validate(params([{"camera": 2, "points": GOOD}, {"camera": 2, "points": GOOD}]))


@pytest.mark.parametrize("values, message", [
    ({"heads": []}, "^heads: give at least one head"),
    ({"min_points": 2}, "^min_points: 2 is below 3"),
    ({"drift_tolerance": 0.0}, "^drift_tolerance"),
    ({"drift_tolerance": float("nan")}, "^drift_tolerance"),
    ({"recalibrate": "when_drifted"}, "^recalibrate: when_drifted .* needs remote_username"),
    ({"remote_username": "root"}, "^remote_username and remote_password go together"),
])
def test_bad_options(values, message):
    with pytest.raises(ValidationError, match=message):
        validate(params(**values))


def test_camera_zero():
    with pytest.raises(ValidationError, match=r"^heads\[0\]\.camera: 0 is not a camera head number"):
        validate(params([{"camera": 0, "points": GOOD}]))

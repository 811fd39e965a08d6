"""The physical model without HTTP: projection, the 52 rule's safety margin, the fit."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from tests.emulator import optics
from tests.emulator.optics import (LENS_K1, Fit, Head, Physics, Point, angular_distance, fit, lean_angle, match_error,
                                   project, wrap180)

GRID = [i / 4 for i in range(-4, 5)]


def test_wrap180():
    assert wrap180(190) == -170
    assert wrap180(-190) == 170
    assert wrap180(540) == -180
    assert wrap180(12.5) == 12.5


def test_projection_centre_and_edges():
    assert project(30, 20, 0, 110, 0, 0) == pytest.approx((30, -20))
    pan, tilt = project(0, 0, 0, 110, 1, 0)
    assert (pan, tilt) == pytest.approx((math.degrees(math.atan(math.tan(math.radians(55)) * (1 + LENS_K1))), 0))
    pan, tilt = project(0, 0, 0, 90, 0, 1)
    assert tilt == pytest.approx(math.degrees(math.atan(9 / 16 * (1 + LENS_K1 * (9 / 16) ** 2))))
    assert project(0, 20, 5, 110, 0, 0) == pytest.approx((0, -20))


def test_generated_ranges():
    for index in range(50):
        physics = Physics.generate("1", index)
        assert -60 <= physics.mount <= 60
        for n, head in enumerate(physics.heads, start=1):
            assert abs(head.azimuth - 90 * (n - 1)) <= 1
            assert abs(head.tilt - 20) <= 1 and abs(head.roll) <= 0.5 and abs(head.fov - 110) <= 2
    assert Physics.generate("1", 3) == Physics.generate("1", 3)
    assert Physics.generate("1", 3) != Physics.generate("2", 3)


def extreme_units():
    for camera, da, dt, roll, dfov, mount in itertools.product(
            (1, 3), (-1, 1), (-1, 1), (-0.5, 0.5), (-2, 2), (-60, 0, 60)):
        heads = tuple(Head(90 * (n - 1) + da, 20 + dt, roll, 110 + dfov) for n in range(1, 5))
        yield camera, Physics(heads, mount)


def nudged(rng, pan, tilt, radius=0.5):
    """A direction at most `radius` degrees from (pan, tilt)."""
    for _attempt in range(100):
        dt = rng.uniform(-radius, radius)
        dp = rng.uniform(-radius, radius) / max(math.cos(math.radians(tilt)), 1e-6)
        candidate = (wrap180(pan + dp), tilt + dt)
        if angular_distance(pan, tilt, *candidate) <= radius:
            return candidate
    return pan, tilt


def test_points_near_the_truth_are_always_accepted():
    """Within 0.5 degree of the truth, anywhere in the image, with the extremes of every parameter."""
    rng = random.Random(7)
    worst = 0.0
    for camera, physics in extreme_units():
        for _session in range(6):
            chosen = rng.sample([(x, y) for x in GRID for y in GRID], 6)
            points = []
            for x, y in chosen:
                pan, tilt = nudged(rng, *physics.truth(camera, x, y))
                error = match_error(camera, x, y, pan, tilt, points)
                worst = max(worst, error)
                assert error <= optics.MATCH_LIMIT, (camera, physics, points, x, y)
                points.append(Point(x, y, pan, tilt))
    assert worst < 7.0


def test_far_points_are_refused():
    physics = Physics.generate("1", 0)
    points = [Point(x, y, *physics.truth(2, x, y)) for x, y in [(0, 0), (0.5, 0.5)]]
    pan, tilt = physics.truth(2, -0.5, -0.5)
    assert match_error(2, -0.5, -0.5, wrap180(pan + 15 / math.cos(math.radians(tilt))), tilt, points) > 10
    assert match_error(2, -0.5, -0.5, pan, tilt + 15, []) > 10


def test_the_52_allowance_follows_the_lean():
    """No allowance for an unknocked mount; the lean is the angle of the pitch-then-roll turn."""
    physics = Physics.generate("1", 0)
    assert physics.mount_lean == 0.0 and lean_angle(0.0, 0.0) == 0.0
    assert lean_angle(10.0, 0.0) == pytest.approx(10.0) and lean_angle(0.0, -10.0) == pytest.approx(10.0)
    assert lean_angle(10.0, 10.0) == pytest.approx(14.13, abs=0.01)
    assert optics.lean_allowance(0.0, -60.0, -20.0) == 0.0
    pan, tilt = physics.truth(1, 0, 0)
    assert match_error(1, 0, 0, pan, tilt + 15, []) == match_error(1, 0, 0, pan, tilt + 15, [], lean=0.0) > 10
    assert match_error(1, 0, 0, pan, tilt + 15, [], lean=10.0) == pytest.approx(
        match_error(1, 0, 0, pan, tilt + 15, []) - 10.0)
    points = [Point(0, 0, pan, tilt)]
    pan, tilt = physics.truth(1, 0.5, -0.5)
    far = wrap180(pan + 15 / math.cos(math.radians(tilt)))
    assert match_error(1, 0.5, -0.5, far, tilt, points) > 10
    assert match_error(1, 0.5, -0.5, far, tilt, points, lean=5.0) < match_error(1, 0.5, -0.5, far, tilt, points)


def test_a_saved_fit_keeps_its_lens_family():
    physics = Physics.generate("1", 2)
    pixels = [(-0.8, 0.6), (0.8, 0.6), (0, 0), (-0.8, -0.8), (0.8, -0.8)]
    radial = fit(2, [Point(x, y, *physics.truth(2, x, y)) for x, y in pixels])
    fisheye = fit(2, [Point(x, y, *physics.truth(2, x, y, "fisheye")) for x, y in pixels], "fisheye")
    assert (radial.family, fisheye.family) == ("radial", "fisheye")
    assert angular_distance(*fisheye.direction(0.9, -0.9), *physics.truth(2, 0.9, -0.9, "fisheye")) < 0.01
    assert Fit.from_json(fisheye.to_json()) == fisheye
    old = radial.to_json()
    del old["family"]  # a state file written before fits kept their family
    assert Fit.from_json(old) == radial
    with pytest.raises(ValueError):
        Fit.from_json({**old, "family": "pinhole"})


def test_an_unknown_lens_family_is_refused():
    with pytest.raises(ValueError, match="lens family"):
        optics.lens(0.5, 0.5, 110.0, "Fisheye")
    with pytest.raises(ValueError, match="lens family"):
        project(0, 20, 0, 110, 0.5, 0.5, "pinhole")


@pytest.mark.parametrize("index", range(8))
def test_fit_from_exact_points_recentres(index):
    physics = Physics.generate("1", index)
    camera = index % 4 + 1
    points = [Point(x, y, *physics.truth(camera, x, y)) for x, y in
              [(-0.8, 0.6), (0.8, 0.6), (0, 0), (-0.8, -0.8), (0.8, -0.8)]]
    result = fit(camera, points)
    assert result.residual < 1e-6
    worst = max(angular_distance(*result.direction(x, y), *physics.truth(camera, x, y)) for x in GRID for y in GRID)
    assert worst < 0.01


def test_fit_flags_a_point_two_degrees_off():
    physics = Physics.generate("1", 0)
    points = [Point(x, y, *physics.truth(1, x, y)) for x, y in
              [(-0.7, 0.5), (0.7, 0.5), (0, 0), (-0.7, -0.6), (0.7, -0.6), (0.3, 0.2)]]
    bad = points[2]
    points[2] = Point(bad.x, bad.y, wrap180(bad.pan + 2), bad.tilt)
    assert fit(1, points).residual > optics.FIT_LIMIT


def test_fit_tolerates_small_noise():
    physics = Physics.generate("1", 5)
    rng = random.Random(3)
    points = [Point(x, y, *nudged(rng, *physics.truth(4, x, y), radius=0.1)) for x, y in
              [(-0.7, 0.5), (0.7, 0.5), (0, 0), (-0.7, -0.6), (0.7, -0.6), (0.3, 0.2)]]
    assert fit(4, points).residual < optics.FIT_LIMIT


def test_fit_across_the_pan_seam():
    heads = tuple(Head(90 * (n - 1), 20, 0.2, 111) for n in range(1, 5))
    physics = Physics(heads, mount=5.0)
    points = [Point(x, y, *physics.truth(3, x, y)) for x, y in [(-0.9, 0.5), (0.9, 0.5), (0, 0), (0, -0.9)]]
    assert any(p.pan > 90 for p in points) and any(p.pan < -90 for p in points)
    result = fit(3, points)
    assert result.residual < 1e-6
    assert angular_distance(*result.direction(0.5, 0.5), *physics.truth(3, 0.5, 0.5)) < 1e-4

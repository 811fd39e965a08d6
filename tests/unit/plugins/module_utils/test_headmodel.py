# -*- coding: utf-8 -*-
"""The head model and its fit: the module's own explanation of a refused point set."""

from __future__ import annotations

import math

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import angular_distance, fit, project, worst_points, wrap180

PIXELS = [(-0.8, 0.6), (0.7, 0.5), (0.6, -0.7), (-0.5, -0.6), (0.05, 0.1)]


@pytest.mark.parametrize("angle, folded", [(0, 0), (180, 180), (-180, 180), (190, -170), (-190, 170), (725, 5)])
def test_wrap180(angle, folded):
    assert wrap180(angle) == pytest.approx(folded)


def test_centre_pixel_looks_along_the_axis():
    pan, tilt = project(0.0, 0.0, (42.0, 20.0, 0.0, 110.0, 0.1))
    assert pan == pytest.approx(42.0)
    assert tilt == pytest.approx(-20.0)


def test_right_edge_is_half_the_field_of_view_away_without_tilt():
    pan, tilt = project(1.0, 0.0, (0.0, 0.0, 0.0, 110.0, 0.0))
    assert pan == pytest.approx(55.0)
    assert tilt == pytest.approx(0.0)


def test_a_barrel_lens_reaches_farther_at_the_edge_than_a_pinhole():
    pan, _tilt = project(1.0, 0.0, (0.0, 0.0, 0.0, 110.0, 0.12))
    assert pan == pytest.approx(math.degrees(math.atan(1.12 * math.tan(math.radians(55.0)))))


@pytest.mark.parametrize("truth", [(137.3, 20.8, 0.4, 111.5, 0.0), (179.5, 19.1, -0.45, 108.2, 0.12),
                                   (-91.0, 21.0, 0.0, 110.0, -0.05)])
def test_fit_recovers_a_head_from_exact_points(truth):
    points = [(x, y) + project(x, y, truth) for x, y in PIXELS]
    params, residuals = fit(points)
    assert max(residuals) < 1e-4
    assert wrap180(params[0] - truth[0]) == pytest.approx(0.0, abs=1e-3)
    assert params[1:] == pytest.approx(truth[1:], abs=1e-3)


def test_fit_points_at_the_bad_measurement():
    truth = (12.0, 20.3, 0.2, 109.0, 0.1)
    points = [(x, y) + project(x, y, truth) for x, y in PIXELS]
    x, y, pan, tilt = points[2]
    points[2] = (x, y, pan + 2.5, tilt)
    _params, residuals = fit(points)
    assert max(range(len(points)), key=lambda i: residuals[i]) == 2
    assert residuals[2] > 0.5


def test_angular_distance_shrinks_pan_near_the_pole():
    assert angular_distance(0, 0, 10, 0) == pytest.approx(10.0)
    assert angular_distance(0, -80, 10, -80) < 2.0


@pytest.mark.parametrize("bad", range(5))
def test_the_worst_point_is_the_one_whose_removal_leaves_the_others_fitting(bad):
    """A fit of the others still leans towards any other bad point, so ranking by the others' agreement names
    the bad point wherever it is in the set."""
    truth = (-47.0, 21.0, 0.3, 110.5, 0.12)
    pixels = [(-0.8, 0.8), (0.8, 0.5), (0.0, 0.7), (-0.4, 0.4), (0.4, 0.8)]
    points = [{"x": x, "y": y, "pan": p, "tilt": t} for x, y in pixels for p, t in [project(x, y, truth)]]
    points[bad]["pan"] += 2.0
    named = worst_points(points)
    assert named.startswith("point %d (" % bad)
    assert float(named.split("(")[1].split()[0]) > 1.0

# -*- coding: utf-8 -*-
"""Drift as a rotation: the turn fitted to pairs of directions is read back in the knock axes (yaw about up, pitch
about east, roll about north), a stray pair is left out, too few or too close pairs are refused, and the
uncertainty says when a turn is too small to tell from the noise."""

from __future__ import annotations

import math
import random

import pytest

np = pytest.importorskip("numpy")

# pylint: disable=wrong-import-position
from ansible_collections.vapix.q6000.plugins.module_utils.vision import rotation  # noqa: E402


def about(axis, degrees):
    """Rodrigues' turn by `degrees` about a unit axis, right-handed."""
    k = np.asarray(axis, float)
    cross = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    a = math.radians(degrees)
    return np.eye(3) + math.sin(a) * cross + (1.0 - math.cos(a)) * cross @ cross


def knock(yaw=0.0, pitch=0.0, roll=0.0):
    """The mount's turn as the knock axes define it: yaw (the pan grows: clockwise seen from above), then pitch
    (about east: northward directions rise), then roll (about north: eastward directions sink)."""
    return about((0, 1, 0), roll) @ about((1, 0, 0), pitch) @ about((0, 0, 1), -yaw)


def pan_tilt(vectors):
    return [(math.degrees(math.atan2(x, y)), math.degrees(math.asin(z))) for x, y, z in vectors]


def pairs(turn, count=6, noise=0.0, seed=1, pans=(60.0, 120.0), tilts=(-30.0, 5.0)):
    """A head's pixels looking over `pans` x `tilts`, before and after `turn`, with Gaussian noise (degrees)."""
    rng = random.Random(seed)
    before = [(rng.uniform(*pans), rng.uniform(*tilts)) for _i in range(count)]
    after = pan_tilt(rotation.directions(*zip(*before)) @ turn.T)
    after = [(p + rng.gauss(0.0, noise), t + rng.gauss(0.0, noise)) for p, t in after]
    return before, after


@pytest.mark.parametrize("axes", [{"yaw": 0.5}, {"pitch": 0.5}, {"roll": 0.5}, {"yaw": 1.0, "pitch": -1.0, "roll": 2.0},
                                  {"yaw": -3.0, "pitch": 0.25, "roll": -0.25}])
def test_the_turn_is_read_in_the_knock_axes(axes):
    fitted = rotation.fit(*pairs(knock(**axes)))
    for axis in ("yaw", "pitch", "roll"):
        assert fitted[axis] == pytest.approx(axes.get(axis, 0.0), abs=1e-6), (axis, fitted)
    expected = math.degrees(math.acos((np.trace(knock(**axes)) - 1.0) / 2.0))
    assert fitted["angle"] == pytest.approx(expected, abs=1e-6)
    assert fitted["left_out"] == [] and fitted["pairs"] == 6
    assert 0.0 < fitted["uncertainty"] < 0.05  # noise-free: no less than the floor's noise allows


def test_a_stray_pair_is_left_out():
    before, after = pairs(knock(yaw=0.5), count=7, noise=0.02)
    after[3] = (after[3][0] + 1.5, after[3][1])
    fitted = rotation.fit(before, after)
    assert fitted["left_out"] == [3]
    assert fitted["yaw"] == pytest.approx(0.5, abs=0.05)


def test_too_few_or_too_close_pairs_fix_no_rotation():
    before, after = pairs(knock(yaw=0.5), count=2)
    with pytest.raises(rotation.RotationError, match="2 pair"):
        rotation.fit(before, after)
    before, after = pairs(knock(yaw=0.5), count=5, pans=(90.0, 90.5), tilts=(-10.0, -9.5))
    with pytest.raises(rotation.RotationError, match="too close together"):
        rotation.fit(before, after)


def test_noise_makes_the_turn_uncertain_and_more_pairs_make_it_less_so():
    few = rotation.fit(*pairs(knock(), count=4, noise=0.1, seed=2))
    many = rotation.fit(*pairs(knock(), count=40, noise=0.1, seed=2))
    assert few["uncertainty"] > 1.5 * many["uncertainty"] > 0.0
    assert many["angle"] < 3.0 * many["uncertainty"]


@pytest.mark.parametrize("angle, uncertainty, status", [
    (0.50, 0.05, "drifted"),  # 0.5 - 0.1 > 0.15
    (0.24, 0.05, "ok"),  # a turn within two sigma of the tolerance is not called a knock
    (0.05, 0.03, "ok"),
    (0.30, 0.08, "not_measured"),  # 2 x 0.08 > 0.15: too uncertain to say either way
])
def test_the_rule(angle, uncertainty, status):
    judged, reason = rotation.judge({"angle": angle, "uncertainty": uncertainty, "pairs": 5, "worst": 0.1}, 0.15)
    assert judged == status
    assert (reason is None) == (status != "not_measured")
    if reason:
        assert reason.startswith("too uncertain: 2 x 0.080 degrees > the tolerance 0.15 (5 pairs)"), reason


def test_a_knock_of_a_quarter_degree_is_found_through_the_noise_of_a_check():
    """Five pairs on a head looking east, each found again within about 0.02 degrees (one sigma): a 0.25 degree
    knock about the vertical or about north is always flagged, one about east (the head's own axis, which five
    pairs fix least well) nearly always; no turn at all never is."""
    found = {"yaw": 0, "pitch": 0, "roll": 0}
    for seed in range(30):
        for axis in found:
            fitted = rotation.fit(*pairs(knock(**{axis: 0.25}), count=5, noise=0.02, seed=seed, pans=(45.0, 135.0)))
            found[axis] += rotation.judge(fitted, 0.15)[0] == "drifted"
        still = rotation.fit(*pairs(knock(), count=5, noise=0.02, seed=seed, pans=(45.0, 135.0)))
        assert rotation.judge(still, 0.15)[0] == "ok", (seed, still)
    assert found["yaw"] == found["roll"] == 30 and found["pitch"] >= 28, found


def test_pairs_that_disagree_on_one_turn_are_not_a_knock():
    """Four pairs, one found 1.2 degrees from where it looks (a repeat matched in the wrong place): the fit cannot
    leave it out of four, and its turn is not called a knock."""
    before, after = pairs(knock(), count=4, noise=0.02, seed=3)
    after[2] = (after[2][0] + 1.2, after[2][1] - 0.4)
    fitted = rotation.fit(before, after)
    assert fitted["worst"] > rotation.DISAGREE
    status, reason = rotation.judge(fitted, 0.15)
    assert status == "not_measured" and reason.startswith("the 4 pairs do not agree on one turn"), (status, reason)


def test_a_wide_tolerance_bears_the_scatter_it_was_set_for():
    """Pairs scattered by 0.35 degree (a point set against itself: its patches' parallax) are judged under a
    tolerance of 0.8, whose half they are within; under the default 0.15 they do not agree on one turn."""
    before, after = pairs(knock(yaw=2.0), count=4, noise=0.02, seed=3)
    after[1] = (after[1][0] + 0.45, after[1][1])
    fitted = rotation.fit(before, after)
    assert rotation.DISAGREE < fitted["worst"] < 0.4, fitted
    assert rotation.judge(fitted, 0.8)[0] == "drifted"
    assert rotation.judge(fitted, 0.15)[0] == "not_measured"


def test_a_spread_taken_from_few_pairs_is_widened():
    """Three pairs leave three degrees of freedom to estimate their own noise: their uncertainty is widened by
    Student's t (3.18 / 1.96), five pairs' by less, forty pairs' hardly at all."""
    assert rotation._widening(3) == pytest.approx(3.18 / 1.96)
    assert rotation._widening(7) == pytest.approx(2.36 / 1.96)
    assert rotation._widening(77) == pytest.approx(1.0)

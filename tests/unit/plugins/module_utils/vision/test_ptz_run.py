# -*- coding: utf-8 -*-
"""The PTZ's degrees per pixel as the capture learns it from its own clicks: long clicks rule, short ones only
correct a rest no longer than they were, and nothing is guessed before any click."""

from __future__ import annotations

import pytest

pytest.importorskip("cv2")
pytest.importorskip("numpy")

# pylint: disable=wrong-import-position
from ansible_collections.vapix.q6000.plugins.module_utils.vision.ptz_run import CORRECTABLE, MIN_STEP_PIXELS, Knowledge  # noqa: E402

STEP = 0.09  # degrees per pixel at the wide end


def clicked(knowledge, pixels, factor=1.0, step=STEP, tilt=0.0):
    """A click `pixels` right of the centre of a picture zoomed `factor` times, that turned the PTZ by `step`."""
    knowledge.learn_step((10.0, tilt, 1), (10.0 + pixels * step / factor, tilt, 1), (pixels, 0.0), factor)


def test_nothing_is_guessed_before_a_click():
    assert Knowledge().step(1.0) is None


def test_long_clicks_give_the_median_up_to_the_correctable_rest():
    knowledge = Knowledge()
    clicked(knowledge, 40, step=0.08)
    clicked(knowledge, 30, factor=4.0)
    clicked(knowledge, 20, step=0.5)  # a mismatch: the median leaves it out
    clicked(knowledge, 2, step=1.0)  # short: it does not count once there are long clicks
    assert knowledge.step(CORRECTABLE) == pytest.approx(STEP)
    assert knowledge.step(CORRECTABLE + 1) is None


def test_short_clicks_pooled_correct_only_short_rests():
    knowledge = Knowledge()
    clicked(knowledge, 0.5, step=5.0)  # under a pixel: left out
    clicked(knowledge, 2, factor=3.0, step=0.1)
    clicked(knowledge, 4, factor=3.0, step=0.085)
    assert knowledge.step(MIN_STEP_PIXELS) == pytest.approx((2 * 0.1 + 4 * 0.085) / 6)
    assert knowledge.step(MIN_STEP_PIXELS + 0.5) is None

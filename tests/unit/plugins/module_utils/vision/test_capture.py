# -*- coding: utf-8 -*-
"""The capture of one head's points: a point beyond the fit budget is refused and replaced, and a head whose
well-spread targets run out goes on with closer ones before it fails."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

pytest.importorskip("cv2")
pytest.importorskip("numpy")

# pylint: disable=wrong-import-position
from ansible_collections.vapix.q6000.plugins.module_utils.errors import CaptureError, TargetError  # noqa: E402
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import project  # noqa: E402
from ansible_collections.vapix.q6000.plugins.module_utils.vision import capture as capture_module  # noqa: E402

HEAD = (40.0, 8.0, 0.5, 90.0, 0.0)  # pan, down, roll, field of view, radial: the head's truth
SPREAD_OUT = [(-0.6, -0.5), (0.6, -0.5), (-0.6, 0.5), (0.6, 0.5), (0.0, 0.0), (-0.3, 0.2)]
CLOSER = [(-0.6, -0.5), (0.0, 0.0), (0.1, -0.4), (-0.45, 0.1), (0.45, 0.1), (0.2, 0.6), (0.6, 0.5)]


def a_capture(monkeypatch, near, lost=()):
    """A capture of head 1 whose targets are SPREAD_OUT (then CLOSER, half as far apart) and whose PTZ finds
    every pixel where the head's truth has it, but pixels in `near` a degree off, each its own way (near content's
    parallax), and pixels in `lost` not at all."""
    def pick_targets(_head, count, _radius, spread):
        return (SPREAD_OUT if spread == capture_module.SPREAD else CLOSER)[:count]

    def point(camera, x, y):
        if (x, y) in lost:
            raise TargetError("not found")
        pan, tilt = project(x, y, HEAD)
        if (x, y) in near:
            pan, tilt = pan + math.cos(7.0 * x + 13.0 * y), tilt + math.sin(7.0 * x + 13.0 * y)
        return {"x": x, "y": y, "pan": pan, "tilt": tilt, "score": 0.9}

    monkeypatch.setattr(capture_module.matching, "pick_targets", pick_targets)
    capture = capture_module.Capture(None, SimpleNamespace(ptz=SimpleNamespace(host="ptz.example")), {},
                                     {"resolution": "1280x720"})
    capture.heads[1] = (None, False)
    monkeypatch.setattr(capture, "point", point)
    return capture


def test_refused_points_are_replaced_by_closer_targets_once_the_spread_out_ones_run_out(monkeypatch):
    near = {SPREAD_OUT[1], SPREAD_OUT[4], SPREAD_OUT[5]}
    capture = a_capture(monkeypatch, near)
    points = capture.head(1, 5, 0.5)
    assert len(points) == 5
    assert not {(p["x"], p["y"]) for p in points} & near
    assert {(p["x"], p["y"]) for p in points} & set(CLOSER) - set(SPREAD_OUT)
    assert near <= {(r["x"], r["y"]) for r in capture.refused}


def test_a_head_fails_when_the_closer_targets_run_out_too(monkeypatch):
    kept = [SPREAD_OUT[0], SPREAD_OUT[2], CLOSER[2]]
    lost = set(SPREAD_OUT + CLOSER) - set(kept)
    capture = a_capture(monkeypatch, set(), lost)
    with pytest.raises(CaptureError, match="camera 1: only 3 of the targets"):
        capture.head(1, 5, 0.5)
    refused = [(r["x"], r["y"]) for r in capture.refused]
    assert sorted(refused) == sorted(lost)  # each tried once, the closer ones included


def test_given_targets_are_never_joined_by_picked_ones(monkeypatch):
    capture = a_capture(monkeypatch, {SPREAD_OUT[1]})
    with pytest.raises(CaptureError, match="camera 1: only 3 of the targets"):
        capture.head(1, 5, 0.5, given=SPREAD_OUT[:4])
    assert all((r["x"], r["y"]) in SPREAD_OUT[:4] for r in capture.refused)

# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""remote_ptz: aim the PTZ behind a Q6000-E at an absolute pan, tilt and zoom, and report where it rests."""

from __future__ import annotations

from ansible_collections.vapix.q6000.plugins.module_utils._connection import check_number
from ansible_collections.vapix.q6000.plugins.module_utils._interrupts import reporting
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import wrap180
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import connect, limits, move, settled_position
from ansible_collections.vapix.q6000.plugins.module_utils.errors import ValidationError, VapixError

ARGUMENT_SPEC = dict(
    pan=dict(type="float"),
    tilt=dict(type="float"),
    zoom=dict(type="int"),
)

# Closer than this to the target is there already (a PTZ repeats a position to about this).
TOLERANCE = 0.05


def validate(params):
    if all(params.get(name) is None for name in ("pan", "tilt", "zoom")):
        raise ValidationError("pan, tilt, zoom: give at least one of them")
    if not (params.get("remote_username") and params.get("remote_password")):
        raise ValidationError("remote_username and remote_password are needed: they are the PTZ's account")
    if params.get("pan") is not None:
        check_number("pan", params["pan"], -360.0, 360.0)
    if params.get("tilt") is not None:
        check_number("tilt", params["tilt"], -90.0, 90.0)
    if params.get("zoom") is not None:
        check_number("zoom", params["zoom"], 1, 9999)


def _check_limits(params, bounds):
    """A target beyond the limits would be clamped by the PTZ and never reached: refuse it, naming the option."""
    pan = params.get("pan")
    if pan is not None and bounds["MaxPan"] - bounds["MinPan"] < 360.0 \
            and not bounds["MinPan"] <= wrap180(pan) <= bounds["MaxPan"]:
        raise ValidationError("pan: %s is outside the PTZ's limits %s..%s"
                              % (pan, bounds["MinPan"], bounds["MaxPan"]))
    for name, low, high in (("tilt", "MinTilt", "MaxTilt"), ("zoom", "MinZoom", "MaxZoom")):
        value = params.get(name)
        if value is not None and not bounds[low] <= value <= bounds[high]:
            raise ValidationError("%s: %s is outside the PTZ's limits %s..%s"
                                  % (name, value, bounds[low], bounds[high]))


def _as_dict(where):
    return {"pan": where[0], "tilt": where[1], "zoom": where[2]}


def _there(where, params):
    pan, tilt, zoom = params.get("pan"), params.get("tilt"), params.get("zoom")
    return ((pan is None or abs(wrap180(where[0] - pan)) < TOLERANCE)
            and (tilt is None or abs(where[1] - tilt) < TOLERANCE)
            and (zoom is None or abs(where[2] - zoom) < 1))


def run(client, params, check_mode):
    with connect(client, params) as ptz:
        _check_limits(params, limits(ptz, "MinPan", "MaxPan", "MinTilt", "MaxTilt", "MinZoom", "MaxZoom"))
        before = settled_position(ptz)
        result = {"changed": False, "before": _as_dict(before), "position": _as_dict(before),
                  "diff": {"before": _as_dict(before), "after": _as_dict(before)}}
        if _there(before, params):
            return result
        wanted = dict(_as_dict(before), **{k: params[k] for k in ("pan", "tilt", "zoom") if params.get(k) is not None})
        result.update(changed=True, diff={"before": _as_dict(before), "after": wanted})
        if check_mode:
            result["position"] = wanted
            return result
        with reporting(result):
            after = move(ptz, params.get("pan"), params.get("tilt"), params.get("zoom"), before=before)
            result["position"] = _as_dict(after)
            if not _there(after, params):
                raise VapixError("the PTZ came to rest at pan %s, tilt %s, zoom %s, not where it was sent"
                                 % after, cgi="com/ptz.cgi", host=ptz.host)
    return result

# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""calibration_facts: what a Q6000-E says about itself, with the fewest requests for the subsets asked."""

from __future__ import annotations

from ansible_collections.vapix.q6000.plugins.module_utils.link import read_params, read_remote_url, read_status
from ansible_collections.vapix.q6000.plugins.module_utils.ptz import connect, settled_position
from ansible_collections.vapix.q6000.plugins.module_utils._api_data import (
    PT_REMOTE_CALIBRATION,
    REMOTE_CAMERA_CONTROL,
)
from ansible_collections.vapix.q6000.plugins.module_utils.errors import DeviceError, ValidationError

SUBSETS = ("device", "connection", "calibration", "ptz")
# `all` leaves out ptz: it needs the PTZ's own account and waits for the PTZ to be at rest.
ALL = ("device", "connection", "calibration")

ARGUMENT_SPEC = dict(
    gather_subset=dict(type="list", elements="str", default=["all"]),
)

# One param.cgi request carries every identity parameter.
DEVICE_GROUPS = ("Brand", "Properties", "ImageSource.NbrOfSources", "Network.eth0.MACAddress")


def subsets_of(gather_subset):
    """Resolve `all`, names and `!name` exclusions, as ansible.builtin.setup does."""
    wanted = set()
    excluded = set()
    for item in gather_subset or ["all"]:
        name = item.strip()
        negate = name.startswith("!")
        name = name.lstrip("!")
        if name not in SUBSETS + ("all",):
            raise ValidationError("gather_subset: %r is not one of all, %s" % (item, ", ".join(SUBSETS)))
        target = excluded if negate else wanted
        target.update(ALL if name == "all" else (name,))
    if not wanted and excluded:
        wanted = set(ALL)
    return [name for name in SUBSETS if name in wanted - excluded]


def validate(params):
    account = params.get("remote_username") and params.get("remote_password")
    if "ptz" in subsets_of(params.get("gather_subset")) and not account:
        raise ValidationError("gather_subset: ptz reads the PTZ itself, so it needs remote_username and "
                              "remote_password (the PTZ's account)")


def read_schema_versions(client, api):
    _name, body = client.call(api, "schemaversions")
    return [{"version": entry["VersionNumber"], "deprecated": (entry["Deprecated"] or "false").lower() == "true"}
            for entry in body["SchemaVersion"]]


def read_calibrated(client):
    """{camera id: calibrated} from iscalibrated.cgi, in camera order."""
    _name, body = client.call(PT_REMOTE_CALIBRATION, "iscalibrated")
    return dict(sorted((camera["Id"], camera["Calibrated"] == 1) for camera in body["Camera"]))


def read_session(client):
    """The ongoing calibration session, or None (error 54 means there is none)."""
    try:
        _name, body = client.call(PT_REMOTE_CALIBRATION, "getinformation")
    except DeviceError as exc:
        if exc.code == 54:
            return None
        raise
    target = body["CurrentTarget"]
    # Some firmware always carries CurrentTarget, empty before any selecttarget.
    if target is None or target["X"] is None or target["Y"] is None:
        target = None
    return {"camera": body["Camera"], "current_target": {"x": target["X"], "y": target["Y"]} if target else None}


def _device(client, _params, _facts):
    values, _missing = client.param_list(*DEVICE_GROUPS)
    version = values.get("Properties.API.HTTP.Version")
    apis = {
        "remote_camera_control": version == "3" and values.get("Properties.RemoteCameraControl.VAPIX") == "yes",
        "pt_remote_calibration": version == "3"
        and values.get("Properties.PTRemoteCalibration.PTRemoteCalibration") == "yes",
    }
    heads = values.get("ImageSource.NbrOfSources")
    facts = {
        "brand": values.get("Brand.Brand"),
        "model": values.get("Brand.ProdNbr"),
        "product_name": values.get("Brand.ProdFullName"),
        "firmware": values.get("Properties.Firmware.Version"),
        "mac_address": values.get("Network.eth0.MACAddress"),
        "heads": int(heads) if heads and heads.isascii() and heads.isdecimal() else None,
        "apis": apis,
        "schema_versions": {},
    }
    for name, api in (("remote_camera_control", REMOTE_CAMERA_CONTROL),
                      ("pt_remote_calibration", PT_REMOTE_CALIBRATION)):
        if apis[name]:
            facts["schema_versions"][name] = read_schema_versions(client, api)
    return facts


def _connection(client, _params, _facts):
    status = read_status(client)
    return {"link": read_params(client), "link_status": status, "remote_url": read_remote_url(client)}


def _calibration(client, _params, _facts):
    calibrated = read_calibrated(client)
    return {
        "calibrated": [{"camera": camera, "calibrated": value} for camera, value in calibrated.items()],
        "calibrated_heads": [camera for camera, value in calibrated.items() if value],
        "session": read_session(client),
    }


def _ptz(client, params, facts):
    """The connection subset, when gathered too, has already read the PTZ's URL."""
    mac = (facts.get("link") or {}).get("mac_address")
    with connect(client, params, facts.get("remote_url"), expected_mac=mac) as ptz:
        pan, tilt, zoom = settled_position(ptz)
    return {"ptz_position": {"pan": pan, "tilt": tilt, "zoom": zoom}}


GATHERERS = {"device": _device, "connection": _connection, "calibration": _calibration, "ptz": _ptz}


def run(client, params, check_mode):
    subsets = subsets_of(params.get("gather_subset"))
    facts = {"gathered_subsets": subsets}
    for name in subsets:
        facts.update(GATHERERS[name](client, params, facts))
    return {"changed": False, "ansible_facts": {"q6000": facts}}

"""param.cgi: the parameter trees of both devices and the `action=list` query language.

Identity and capabilities of this firmware generation come from here (no JSON device-info API),
so the names and values are the ones clients probe for.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from .device import Endpoint
from .optics import NBR_OF_HEADS
from .ptz import LIMITS

FIRMWARE = "6.50.1"
RESOLUTION = "1920x1080"
RESOLUTIONS = (RESOLUTION, "1280x720", "640x360")


def _resolutions(endpoint: Endpoint) -> dict[str, str]:
    """`Properties.Image.Resolution`, or with `resolutions_per_channel` one `Properties.Image.I<n>.Resolution`
    per video channel (the Q6000-E's four heads I0..I3, the PTZ's I0), each with the same list."""
    resolutions = ",".join(RESOLUTIONS)
    if not endpoint.unit.settings.resolutions_per_channel:
        return {"Properties.Image.Resolution": resolutions}
    channels = NBR_OF_HEADS if endpoint.kind == "q6000" else 1
    return {f"Properties.Image.I{i}.Resolution": resolutions for i in range(channels)}


def table(endpoint: Endpoint) -> dict[str, str]:
    """Parameter name (without `root.`) -> value, in listing order.

    The Q6000-E's table leaves out what `param_lacks` names (firmware without those parameters).
    """
    unit = endpoint.unit
    serial = endpoint.mac.replace(":", "")
    if endpoint.kind == "q6000":
        params = {
            "Brand.Brand": "AXIS",
            "Brand.ProdFullName": "AXIS Q6000-E Network Camera",
            "Brand.ProdNbr": "Q6000-E",
            "Brand.ProdShortName": "AXIS Q6000-E",
            "Brand.ProdType": "Network Camera",
            "Brand.WebURL": "http://www.axis.com",
            "Image.NbrOfConfigs": str(NBR_OF_HEADS),
        }
        for i in range(NBR_OF_HEADS):
            params[f"Image.I{i}.Appearance.Resolution"] = RESOLUTION
        params.update({
            "ImageSource.NbrOfSources": str(NBR_OF_HEADS),
            "Network.eth0.IPAddress": unit.ipv4_address,
            "Network.eth0.MACAddress": endpoint.mac,
            "Properties.API.HTTP.Version": "3",
            "Properties.Firmware.BuildDate": "Jun 01 2018 12:00",
            "Properties.Firmware.Version": FIRMWARE,
            **_resolutions(endpoint),
            "Properties.PTRemoteCalibration.PTRemoteCalibration": "yes",
            "Properties.RemoteCameraControl.VAPIX": "yes",
            "Properties.System.SerialNumber": serial,
        })
        lacks = unit.settings.param_lacks
        if lacks:
            params = {k: v for k, v in params.items() if not any(k == g or k.startswith(g + ".") for g in lacks)}
        return params
    limits = LIMITS
    return {
        "Brand.Brand": "AXIS",
        "Brand.ProdFullName": "AXIS Q60-E PTZ Dome Network Camera",
        "Brand.ProdNbr": "Q60-E",
        "Brand.ProdShortName": "AXIS Q60-E",
        "Brand.ProdType": "PTZ Dome Network Camera",
        "Brand.WebURL": "http://www.axis.com",
        "Network.eth0.IPAddress": unit.ipv4_address,
        "Network.eth0.MACAddress": endpoint.mac,
        "PTZ.Limit.L1.MaxPan": f"{limits.max_pan:g}",
        "PTZ.Limit.L1.MaxTilt": f"{limits.max_tilt:g}",
        "PTZ.Limit.L1.MaxZoom": str(limits.max_zoom),
        "PTZ.Limit.L1.MinPan": f"{limits.min_pan:g}",
        "PTZ.Limit.L1.MinTilt": f"{limits.min_tilt:g}",
        "PTZ.Limit.L1.MinZoom": str(limits.min_zoom),
        "Properties.API.HTTP.Version": "3",
        "Properties.Firmware.BuildDate": "Jun 01 2018 12:00",
        "Properties.Firmware.Version": FIRMWARE,
        **_resolutions(endpoint),
        "Properties.PTZ.PTZ": "yes",
        "Properties.System.SerialNumber": serial,
    }


def _strip_root(group: str) -> str:
    return group[5:] if group.lower().startswith("root.") else group


def is_public(group: str) -> bool:
    """Properties are readable without credentials; everything else needs a viewer."""
    name = _strip_root(group)
    return name == "Properties" or name.startswith("Properties.")


def groups_of(args: dict[str, str]) -> list[str]:
    return [g.strip() for g in args.get("group", "").split(",") if g.strip()]


def needs_login(args: dict[str, str]) -> bool:
    groups = groups_of(args)
    return not groups or not all(is_public(g) for g in groups)


def select(params: dict[str, str], group: str) -> list[str]:
    name = _strip_root(group)
    if "*" in name:
        return [k for k in params if fnmatchcase(k, name) or fnmatchcase(k, name + ".*")]
    return [k for k in params if k == name or k.startswith(name + ".")]


def error_line(endpoint: Endpoint, message: str) -> str:
    """`# Error: <message>`, or `# Error:<message>` with `error_space` off."""
    return f"# Error:{' ' if endpoint.unit.settings.error_space else ''}{message}"


def listing(endpoint: Endpoint, args: dict[str, str]) -> str:
    """The text/plain body of param.cgi for these arguments (lines without `root.` with `param_prefix` off)."""
    unknown = sorted(set(args) - {"action", "group"})
    if unknown:
        return error_line(endpoint, f"Unknown argument '{unknown[0]}'") + "\n"
    action = args.get("action")
    if action != "list":
        return error_line(endpoint, f"Unsupported action '{action}'" if action else "Missing argument 'action'") + "\n"
    params = table(endpoint)
    prefix = "root." if endpoint.unit.settings.param_prefix else ""
    groups = groups_of(args) or ["*"]
    lines = []
    for group in groups:
        names = select(params, group)
        if not names:
            lines.append(error_line(endpoint, f"Error -1 getting param in group '{group}'"))
        lines.extend(f"{prefix}{k}={params[k]}" for k in names)
    return "\n".join(lines) + "\n"

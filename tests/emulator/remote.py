"""Remote camera control API (`/axis-cgi/remotecameracontrol/`): the Q6000-E's link to its PTZ.

Each handler takes the unit and the request's arguments and returns the body element, or raises
ApiError; the server wraps it in the response document.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

from .device import STATUS_TEXT, Unit
from .xmlapi import ApiError, check_arguments, element, parse_int, schemaversions

HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
LINK_ARGUMENTS = {"host", "discoverymode", "httpport", "httpsport", "rtspport", "username", "password"}


def host_kind(host: str) -> str:
    """ipv4, ipv6 or name; anything else is not a host (20)."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ApiError(20, f"Invalid host: {host!r}.") from None
        return "ipv6"
    if re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ApiError(20, f"Invalid host: {host!r}.") from None
        return "ipv4"
    if not HOSTNAME.match(host):
        raise ApiError(20, f"Invalid host: {host!r}.")
    return "name"


def remote_url(unit: Unit) -> str:
    """`http(s)://host:port/` (https when the PTZ speaks TLS; no final slash with remote_url_slash off)."""
    host = unit.link_host()
    if ":" in host:
        host = f"[{host}]"
    slash = "/" if unit.settings.remote_url_slash else ""
    return f"{'https' if unit.ptz_tls else 'http'}://{host}:{unit.link_httpport()}{slash}"


def getvapixparams(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, set())
    link = unit.link
    return element("GetVapixParamsSuccess", {
        "BaseConnectionParams": {
            "MACAddress": unit.ptz.mac.lower(),
            "Host": unit.link_host(),
            "DiscoveryMode": link.discoverymode,
        },
        "VapixConnectionParams": {
            "HTTPPort": str(unit.link_httpport()),
            "HTTPSPort": str(link.httpsport),
            "RTSPPort": str(link.rtspport),
            "Username": link.username,
        },
    })


def setvapixparams(unit: Unit, args: dict[str, str]) -> str:
    """Change only what is given; in auto mode the host is discovered, a given one is ignored."""
    check_arguments(args, LINK_ARGUMENTS)
    current = unit.link
    mode = args.get("discoverymode", current.discoverymode)
    if mode not in ("auto", "manual"):
        raise ApiError(20, f"Invalid discoverymode: {mode!r}.")
    ports = {name: parse_int(args, name, 1, 65535) for name in ("httpport", "httpsport", "rtspport")}
    host = args.get("host")
    if host is not None and host_kind(host) == "ipv6" and mode == "auto":
        raise ApiError(20, "An IPv6 host requires discoverymode=manual.")
    new = replace(current, discoverymode=mode)
    if mode == "manual":
        new.host = host if host is not None else unit.link_host()
    for name, value in ports.items():
        if value is not None:
            setattr(new, name, value)
    if "username" in args:
        new.username = args["username"]
    if "password" in args:
        new.password = args["password"]
    unit.set_link(new)
    return element("GeneralSuccess")


def _status(code: int) -> dict:
    return {"StatusCode": str(code), "Description": STATUS_TEXT[code]}


def getvapixstatus(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, set())
    status = unit.link_status()
    return element("GetStatusSuccess", {
        "BaseConnectionStatus": _status(status["base"]),
        "VapixConnectionStatus": {
            "HTTPStatus": _status(status["http"]),
            "HTTPSStatus": _status(status["https"]),
            "RTSPStatus": _status(status["rtsp"]),
        },
    })


def getremoteurl(unit: Unit, args: dict[str, str]) -> str:
    check_arguments(args, set())
    return element("GetRemoteURLSuccess", remote_url(unit))


CGIS = {
    "getvapixparams.cgi": ("admin", getvapixparams),
    "setvapixparams.cgi": ("admin", setvapixparams),
    "getvapixstatus.cgi": ("viewer", getvapixstatus),
    "getremoteurl.cgi": ("viewer", getremoteurl),
    "schemaversions.cgi": ("viewer", schemaversions),
}

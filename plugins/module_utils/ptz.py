# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PTZ behind a Q6000-E, reached where the controller can reach it, with the PTZ's own account.

In `auto` discovery the Q6000-E reports the address it uses on its own link to the PTZ, usually link-local
(169.254.x.y), which the controller cannot route to. So the PTZ's site address (ptz_hostname) comes first; the
remote URL is only a fallback when its host is routable. Before anything reads or moves it, the PTZ found there
must be this unit's: its MAC is compared with the one the Q6000-E reports, so a typo in an inventory cannot
steer another unit's PTZ.
"""

from __future__ import annotations

import ipaddress
import math
import time
from urllib.parse import urlsplit

from ansible_collections.vapix.q6000.plugins.module_utils._connection import ptz_use_https, shared_options
from ansible_collections.vapix.q6000.plugins.module_utils._transport import redact
from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import wrap180
from ansible_collections.vapix.q6000.plugins.module_utils.link import read_params, read_remote_url
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    PtzRestlessError,
    UnexpectedAnswerError,
    UnroutablePtzError,
    ValidationError,
    VapixError,
)
from ansible_collections.vapix.q6000.plugins.module_utils.vapix import VapixClient

POLL_INTERVAL = 0.15
# A PTZ may start its motor a moment after the command: with no motion seen, "at rest" needs the position
# unchanged for this long after the command, never two equal reads of the old position.
REST_WINDOW = 0.5
SETTLE_TIMEOUT = 20.0
# Degrees (pan, tilt) within which two reads are the same position: more than a read's rounding (units answer
# two decimals) and its wobble at rest (hundredths of a degree); zoom steps are integers.
SAME = 0.05


def is_link_local(host):
    try:
        address = ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_link_local or bool(mapped and mapped.is_link_local)


def ptz_client(client, params, remote_url=None):
    """A client for the PTZ at ptz_hostname, or at the remote URL the Q6000-E reports when that is routable.

    `remote_url`: the URL already read in this task, if any (saves a request).
    """
    https = ptz_use_https(params)
    validate = params["validate_certs"] if params.get("ptz_validate_certs") is None else params["ptz_validate_certs"]
    ca_path = params.get("ptz_ca_path") or params.get("ca_path")
    host, port = params.get("ptz_hostname"), params.get("ptz_port")
    if not host:
        url = remote_url if remote_url is not None else read_remote_url(client)
        try:
            parts = urlsplit(url.strip())
            host, url_port = parts.hostname, parts.port
        except ValueError:
            host = None
        if not host or parts.scheme not in ("http", "https"):
            raise VapixError("the device reports no usable PTZ URL (%r); set ptz_hostname to the PTZ's address"
                             % redact(url), cgi="remotecameracontrol/getremoteurl.cgi", host=client.host)
        if is_link_local(host):
            raise UnroutablePtzError("ptz_hostname: the Q6000-E reaches its PTZ at %s, a link-local address the "
                                     "controller cannot route to; set ptz_hostname (and ptz_port) to the PTZ's "
                                     "address on the site network" % host)
        # What the options say explicitly wins over the URL.
        port = port or url_port
        if params.get("ptz_use_https") is None:
            https = parts.scheme == "https"
        if params["auth"] == "basic" and not https and not params["allow_basic_over_http"]:
            raise ValidationError("auth: basic would send remote_password in clear over HTTP to the PTZ at %s; set "
                                  "ptz_hostname with ptz_use_https=true, or allow_basic_over_http=true" % host)
    return VapixClient(host, port=port, use_https=https, validate_certs=validate, ca_path=ca_path,
                       username=params["remote_username"], password=params["remote_password"],
                       **shared_options(params))


def _normal_mac(text):
    return (text or "").strip().lower().replace("-", ":")


def verify_identity(client, ptz, expected_mac=None):
    """Fail unless the PTZ at `ptz` is the one this Q6000-E is linked to (MAC against getvapixparams)."""
    if expected_mac is None:
        expected_mac = read_params(client)["mac_address"]
    if not expected_mac:
        raise VapixError("the Q6000-E reports no MAC address for its PTZ (is it linked to one?), so the PTZ at %s "
                         "cannot be told to be its own; nothing was moved" % ptz.base_url,
                         cgi="remotecameracontrol/getvapixparams.cgi", host=client.host)
    values = ptz.param_values("Network.eth0.MACAddress")
    found = values["Network.eth0.MACAddress"]
    if _normal_mac(found) != _normal_mac(expected_mac):
        raise ValidationError("ptz_hostname: the PTZ at %s has the MAC %s, but %s is linked to the PTZ %s; check "
                              "ptz_hostname and ptz_port (nothing was moved)" % (ptz.base_url, found, client.host,
                                                                                 expected_mac))


def connect(client, params, remote_url=None, expected_mac=None):
    """ptz_client() and verify_identity() together: a PTZ client that is safe to read and move."""
    ptz = ptz_client(client, params, remote_url)
    try:
        verify_identity(client, ptz, expected_mac)
    except BaseException:
        ptz.close()
        raise
    return ptz


def limits(ptz, *keys):
    """{key: value} of the PTZ's PTZ.Limit.L1.<key> parameters, as numbers."""
    names = ["PTZ.Limit.L1.%s" % key for key in keys]
    values = ptz.param_values(*names)
    try:
        return {key: float(values[name]) for key, name in zip(keys, names)}
    except ValueError:
        raise UnexpectedAnswerError("the PTZ's limits are not numbers (%s)" % ", ".join(
            "%s=%s" % (name, values[name][:20]) for name in names), cgi="param.cgi", host=ptz.host)


def position(ptz):
    """(pan, tilt, zoom) from ptz.cgi?query=position."""
    values = ptz.ptz({"query": "position"}, write=False)
    try:
        where = float(values["pan"]), float(values["tilt"]), float(values.get("zoom", 1))
        if all(math.isfinite(value) for value in where):
            return where
    except (KeyError, TypeError, ValueError):
        pass
    keys = ", ".join(sorted(values or {}))[:200]
    raise UnexpectedAnswerError("query=position gave no numeric pan/tilt/zoom (%s)" % keys, cgi="com/ptz.cgi",
                                host=ptz.host)


def same_position(a, b):
    """Whether two (pan, tilt, zoom) reads are one position (pan and tilt within SAME, the same zoom step)."""
    return abs(wrap180(a[0] - b[0])) < SAME and abs(a[1] - b[1]) < SAME and abs(a[2] - b[2]) < 0.5


def settled_position(ptz, before=None, commanded=None):
    """The PTZ's position once it is at rest after a command sent at `commanded` (monotonic time).

    A move is answered before the PTZ arrives, and a motor may start late: once motion was seen (a read that
    differs from `before`, the position before the command) two equal reads in a row are rest; with no motion
    seen, the position must stay unchanged for REST_WINDOW seconds after the command.
    """
    commanded = time.monotonic() if commanded is None else commanded
    deadline = commanded + SETTLE_TIMEOUT
    last = position(ptz)
    moved = before is not None and not same_position(last, before)
    stable_since = time.monotonic()
    while True:
        time.sleep(POLL_INTERVAL)
        now = position(ptz)
        at = time.monotonic()
        # Against the read where stillness began, not the one before: a slow creep adds up to motion.
        if not same_position(now, last):
            moved = True
            stable_since = at
            last = now
        elif moved or at - stable_since >= REST_WINDOW:
            return now
        if at > deadline:
            raise PtzRestlessError("the PTZ did not come to rest within %ss" % SETTLE_TIMEOUT, cgi="com/ptz.cgi",
                                   host=ptz.host)


def number(value, digits):
    """A decimal string without trailing zeros after the point ("2500", never "25")."""
    text = "%.*f" % (digits, value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def move(ptz, pan=None, tilt=None, zoom=None, before=None):
    """Absolute move; returns where the PTZ rests afterwards."""
    args = {}
    if pan is not None:
        args["pan"] = number(wrap180(pan), 4)
    if tilt is not None:
        args["tilt"] = number(tilt, 4)
    if zoom is not None:
        args["zoom"] = number(zoom, 0)
    before = before or position(ptz)
    commanded = time.monotonic()
    ptz.ptz(args, write=True)
    return settled_position(ptz, before=before, commanded=commanded)


def put_back(ptz, home):
    """Send the PTZ back to `home` (pan, tilt, zoom), zoom included."""
    ptz.ptz({"pan": number(home[0], 4), "tilt": number(home[1], 4), "zoom": number(home[2], 0)}, write=True)


def overview_click(client, ptz, camera, x, y, size, before):
    """Click-to-center on head pixel (x, y) through the Q6000-E: the PTZ turns where the head's saved calibration
    says the pixel looks. ((x, y) actually clicked, in whole pixels of a `size` picture; where the PTZ rests.)"""
    width, height = size
    px = min(max(int(round((x + 1.0) / 2.0 * width)), 0), width)
    py = min(max(int(round((1.0 - y) / 2.0 * height)), 0), height)
    commanded = time.monotonic()
    client.ptz({"camera": str(camera), "center": "%d,%d" % (px, py), "imagewidth": str(width),
                "imageheight": str(height)}, write=True)
    return (2.0 * px / width - 1.0, 1.0 - 2.0 * py / height), settled_position(ptz, before=before, commanded=commanded)

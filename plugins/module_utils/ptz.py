# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PTZ behind a Q6000-E, reached at the URL the Q6000-E reports, with the PTZ's own account."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from ansible_collections.vapix.q6000.plugins.module_utils.headmodel import wrap180
from ansible_collections.vapix.q6000.plugins.module_utils.vapix import VapixClient, VapixError

SETTLE_INTERVAL = 0.15
SETTLE_TIMEOUT = 15.0


def ptz_client(client, params, remote_url):
    """A client for the PTZ, at the URL the Q6000-E itself uses to reach it (getremoteurl.cgi)."""
    parts = urlsplit(remote_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VapixError("the device reports no usable PTZ URL (%r)" % remote_url,
                         cgi="remotecameracontrol/getremoteurl.cgi", host=client.host)
    return VapixClient(parts.hostname, port=parts.port, use_https=parts.scheme == "https",
                       validate_certs=params["validate_certs"], ca_path=params.get("ca_path"),
                       username=params["remote_username"], password=params["remote_password"],
                       timeout=params["timeout"], retries=params["retries"])


def position(ptz):
    """(pan, tilt, zoom) from ptz.cgi?query=position."""
    values = ptz.ptz({"query": "position"}, write=False)
    try:
        return float(values["pan"]), float(values["tilt"]), float(values.get("zoom", 1))
    except (KeyError, TypeError, ValueError):
        raise VapixError("query=position gave no pan/tilt", cgi="com/ptz.cgi", host=ptz.host)


def settled_position(ptz):
    """The PTZ's position once two reads in a row agree: a move is answered before the PTZ arrives."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    time.sleep(SETTLE_INTERVAL)
    last = position(ptz)
    while True:
        time.sleep(SETTLE_INTERVAL)
        now = position(ptz)
        if abs(wrap180(now[0] - last[0])) < 0.01 and abs(now[1] - last[1]) < 0.01:
            return now
        if time.monotonic() > deadline:
            raise VapixError("the PTZ did not come to rest within %ss" % SETTLE_TIMEOUT,
                             cgi="com/ptz.cgi", host=ptz.host)
        last = now

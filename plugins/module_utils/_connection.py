# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options (the Q6000-E's and the PTZ's), defined once, checked, and turned into a client.

Kept free of Ansible objects, like community.hashi_vault's `_connection_options.py`: `_runner.py` makes the
modules' argument spec of these definitions (`env` becomes an environment fallback), and
`hacking/update_connection_role.py` makes the `connection` role's defaults and argument spec of them.
"""

from __future__ import annotations

import math
import re

from ansible_collections.vapix.q6000.plugins.module_utils._answers import HAS_XMLTODICT, XMLTODICT_IMPORT_ERROR
from ansible_collections.vapix.q6000.plugins.module_utils._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR
from ansible_collections.vapix.q6000.plugins.module_utils.errors import ValidationError
from ansible_collections.vapix.q6000.plugins.module_utils.vapix import VapixClient

# Each option as an argument spec entry, except `env`: the environment variable read when the option is not set.
CONNECTION_OPTIONS = dict(
    hostname=dict(type="str", required=True, env="VAPIX_HOSTNAME"),
    port=dict(type="int", env="VAPIX_PORT"),
    use_https=dict(type="bool", default=False, env="VAPIX_USE_HTTPS"),
    validate_certs=dict(type="bool", default=True, env="VAPIX_VALIDATE_CERTS"),
    ca_path=dict(type="path", env="VAPIX_CA_PATH"),
    username=dict(type="str", required=True, env="VAPIX_USERNAME"),
    password=dict(type="str", required=True, no_log=True, env="VAPIX_PASSWORD"),
    auth=dict(type="str", default="auto", choices=["auto", "digest", "basic"], env="VAPIX_AUTH"),
    allow_basic_over_http=dict(type="bool", default=False),
    use_proxy=dict(type="bool", default=True),
    timeout=dict(type="float", default=10.0, env="VAPIX_TIMEOUT"),
    retries=dict(type="int", default=2),
)

# Where the controller reaches the PTZ, and the PTZ's account. The account is the one the Q6000-E uses on its
# PTZ too (remote_camera_params sets it there), so every module takes it from the same options.
PTZ_OPTIONS = dict(
    ptz_hostname=dict(type="str", env="VAPIX_PTZ_HOSTNAME"),
    ptz_port=dict(type="int", env="VAPIX_PTZ_PORT"),
    ptz_use_https=dict(type="bool"),
    ptz_validate_certs=dict(type="bool"),
    ptz_ca_path=dict(type="path"),
    remote_username=dict(type="str", env="VAPIX_REMOTE_USERNAME"),
    remote_password=dict(type="str", no_log=True, env="VAPIX_REMOTE_PASSWORD"),
)

# Characters that would end the host part of a URL or smuggle another argument or header into it.
_HOST_FORBIDDEN = re.compile(r"[\s/?#@&=%\\\"'<>{}|^`]")


def check_port(name, value):
    if value is not None and not 1 <= value <= 65535:
        raise ValidationError("%s: %s is not a port number (1..65535)" % (name, value))


def check_host(name, value, required=False):
    """Refuse what is not a host name or an IP address, e.g. text that would inject URL or query parts."""
    if value is None or value == "":
        if required:
            raise ValidationError("%s is required" % name)
        return
    bare = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if not bare or _HOST_FORBIDDEN.search(bare) or any(ord(c) < 32 or ord(c) == 127 for c in bare):
        raise ValidationError("%s: %r is not a host name or IP address" % (name, value))


def check_number(name, value, low=None, high=None):
    """Finite and, when bounds are given, inside them."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError("%s: %r is not a number" % (name, value))
    if not math.isfinite(value):
        raise ValidationError("%s: %r is not a finite number" % (name, value))
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValidationError("%s: %s is outside %s..%s" % (name, value, low, high))


def check_account_text(name, value, basic=False):
    """Refuse what cannot go into an HTTP header; the message never shows the value (it may be a password)."""
    if value is None:
        return
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError("%s: contains a control character (a line break, say), which no HTTP "
                              "authentication can carry" % name)
    if basic:
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValidationError("%s: contains characters outside Latin-1, which Basic authentication cannot "
                                  "send; use auth=digest" % name)


def ptz_use_https(params):
    """Whether the PTZ is talked to over HTTPS: ptz_use_https, or else the connection's use_https."""
    value = params.get("ptz_use_https")
    return params["use_https"] if value is None else value


def check_connection(params):
    """The connection options (the Q6000-E's and the PTZ's), checked before any request."""
    check_host("hostname", params["hostname"], required=True)
    check_port("port", params.get("port"))
    check_host("ptz_hostname", params.get("ptz_hostname"))
    check_port("ptz_port", params.get("ptz_port"))
    basic = params["auth"] == "basic"
    for name in ("username", "password", "remote_username", "remote_password"):
        check_account_text(name, params.get(name), basic=basic)
    if not params["timeout"] > 0 or not math.isfinite(params["timeout"]):
        raise ValidationError("timeout: %s must be a positive number of seconds" % params["timeout"])
    if params["retries"] < 0 or params["retries"] > 10:
        raise ValidationError("retries: %s is outside 0..10" % params["retries"])
    if params["auth"] == "basic" and not params["use_https"] and not params["allow_basic_over_http"]:
        raise ValidationError("auth: basic would send the password in clear over HTTP; set use_https=true, "
                              "or allow_basic_over_http=true to accept that")
    if (basic and params.get("remote_password") and not ptz_use_https(params)
            and not params["allow_basic_over_http"]):
        raise ValidationError("auth: basic would send remote_password in clear over HTTP to the PTZ; set "
                              "ptz_use_https=true, or allow_basic_over_http=true to accept that")


def missing_libraries(logic=None):
    """(library, traceback) of the first missing runtime dependency, or None.

    A task's logic may need more (its LIBRARIES: (name, present, traceback) triples), imported by it alone.
    """
    if not HAS_REQUESTS:
        return "requests", REQUESTS_IMPORT_ERROR
    if not HAS_XMLTODICT:
        return "xmltodict", XMLTODICT_IMPORT_ERROR
    for name, present, error in getattr(logic, "LIBRARIES", ()):
        if not present:
            return name, error
    return None


def shared_options(params):
    """The client options both devices take from the same connection options (authentication, proxy, timing)."""
    return {name: params[name] for name in ("auth", "allow_basic_over_http", "use_proxy", "timeout", "retries")}


def client_from_params(params):
    """The Q6000-E's client, as the connection options say."""
    return VapixClient(
        params["hostname"],
        port=params.get("port"),
        use_https=params["use_https"],
        validate_certs=params["validate_certs"],
        ca_path=params.get("ca_path"),
        username=params["username"],
        password=params["password"],
        **shared_options(params)
    )

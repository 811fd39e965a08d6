# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""remote_camera_params: how the Q6000-E reaches its PTZ (read, compare, decide, write, read back)."""

from __future__ import annotations

import ipaddress
import time

from ansible_collections.vapix.q6000.plugins.module_utils._connection import check_host, check_number, check_port
from ansible_collections.vapix.q6000.plugins.module_utils._interrupts import reporting
from ansible_collections.vapix.q6000.plugins.module_utils._api_data import REMOTE_CAMERA_CONTROL
from ansible_collections.vapix.q6000.plugins.module_utils.errors import ValidationError, VapixError
from ansible_collections.vapix.q6000.plugins.module_utils.vapix import STATUS_WORDS

ARGUMENT_SPEC = dict(
    remote_host=dict(type="str"),
    discovery_mode=dict(type="str", choices=["auto", "manual"]),
    http_port=dict(type="int"),
    https_port=dict(type="int"),
    rtsp_port=dict(type="int"),
    update_password=dict(type="str", default="on_failure", choices=["on_failure", "always", "never"], no_log=False),
    wait_for_connection=dict(type="bool", default=False),
    wait_timeout=dict(type="float", default=60.0),
    allow_password_over_http=dict(type="bool", default=False),
)

# option -> (setvapixparams argument, key in `params`)
FIELDS = (
    ("discovery_mode", "discoverymode", "discovery_mode"),
    ("remote_host", "host", "host"),
    ("http_port", "httpport", "http_port"),
    ("https_port", "httpsport", "https_port"),
    ("rtsp_port", "rtspport", "rtsp_port"),
    ("remote_username", "username", "username"),
)

POLL_INTERVAL = 0.5


def _is_ipv6(host):
    try:
        return ipaddress.ip_address(host.strip("[]")).version == 6
    except ValueError:
        return False


def validate(params):
    """Everything that can be refused without asking the device."""
    check_host("remote_host", params.get("remote_host"))
    for name in ("http_port", "https_port", "rtsp_port"):
        check_port(name, params.get(name))
    host = params.get("remote_host")
    mode = params.get("discovery_mode")
    if mode == "manual" and not host:
        raise ValidationError("discovery_mode: manual needs remote_host (the PTZ's address is not discovered)")
    if host and mode == "auto":
        if _is_ipv6(host):
            raise ValidationError("remote_host: the IPv6 address %s needs discovery_mode=manual "
                                  "(automatic discovery finds IPv4 addresses only)" % host)
        raise ValidationError("remote_host: the device ignores a host in discovery_mode=auto (it discovers the "
                              "PTZ's IPv4 address itself); use discovery_mode=manual to set %s" % host)
    if params.get("remote_username") == "":
        raise ValidationError("remote_username: must not be empty")
    check_number("wait_timeout", params.get("wait_timeout"), 0, 3600)
    if (params.get("remote_password") is not None and params["update_password"] != "never"
            and not params["use_https"] and not params["allow_password_over_http"]):
        raise ValidationError("remote_password: it would be sent to the Q6000-E in clear over HTTP; set "
                              "use_https=true (the norm), or allow_password_over_http=true to accept that")


def read_params(client):
    _name, body = client.call(REMOTE_CAMERA_CONTROL, "getvapixparams")
    base, vapix = body["BaseConnectionParams"], body["VapixConnectionParams"]
    return {
        "mac_address": base["MACAddress"],
        "host": base["Host"] or "",
        "discovery_mode": base["DiscoveryMode"],
        "http_port": vapix["HTTPPort"],
        "https_port": vapix["HTTPSPort"],
        "rtsp_port": vapix["RTSPPort"],
        "username": vapix["Username"] or "",
    }


def read_status(client):
    _name, body = client.call(REMOTE_CAMERA_CONTROL, "getvapixstatus")

    def entry(node):
        code = node["StatusCode"]
        return {"code": code, "description": node["Description"] or STATUS_WORDS.get(code, "unknown")}

    protocols = body["VapixConnectionStatus"]
    status = entry(body["BaseConnectionStatus"])
    status.update({
        "http": entry(protocols["HTTPStatus"]),
        "https": entry(protocols["HTTPSStatus"]),
        "rtsp": entry(protocols["RTSPStatus"]),
    })
    return status


def read_remote_url(client):
    _name, url = client.call(REMOTE_CAMERA_CONTROL, "getremoteurl")
    return url or ""


def describe_status(status):
    """The link status in words, per protocol."""
    parts = ["%s %s (%s)" % (proto.upper(), status[proto]["code"], status[proto]["description"])
             for proto in ("http", "https", "rtsp")]
    return "%s; %s" % (status["description"], ", ".join(parts))


def _same_host(current, wanted):
    try:
        return ipaddress.ip_address(current.strip("[]")) == ipaddress.ip_address(wanted.strip("[]"))
    except ValueError:
        return current.lower().rstrip(".") == wanted.lower().rstrip(".")


LINK_OPTIONS = ("discovery_mode", "remote_host", "http_port", "https_port", "rtsp_port")


def plan(params, current, status):
    """The setvapixparams arguments that make the device match `params`, the options they come from, and what
    becomes of the password: `sent` (in these arguments), `if_refused` (decided once the changed link has
    settled: sent when the PTZ then refuses the stored one) or `not_sent`."""
    wanted = dict(params)
    if wanted.get("remote_host") and not wanted.get("discovery_mode"):
        wanted["discovery_mode"] = "manual"
    args, changed = {}, []
    for option, arg, key in FIELDS:
        value = wanted.get(option)
        if value is None:
            continue
        if option == "remote_host":
            value = value.strip("[]")
            if _same_host(current["host"], value):
                continue
        elif current[key] == value:
            continue
        args[arg] = value
        changed.append(option)
    password = params.get("remote_password")
    decision = "not_sent"
    if password is not None and params["update_password"] != "never":
        username = wanted.get("remote_username") or current["username"]
        if not username:
            raise ValidationError("remote_password: the device has no username for the PTZ; set remote_username too")
        policy = params["update_password"]
        if policy == "always" or (policy == "on_failure" and "remote_username" in changed):
            decision = "sent"
        elif policy == "on_failure" and any(option in changed for option in LINK_OPTIONS):
            # The status read now is about the old link: a wrong host says 2 whatever the password is.
            decision = "if_refused"
        elif policy == "on_failure" and status["code"] == 3:
            decision = "sent"
        if decision == "sent":
            args["password"] = password
            changed.append("remote_password")
    return args, changed, decision


def wait_for_connection(client, timeout, status, until=lambda code: code == 0):
    """Poll getvapixstatus until `until(code)` (by default: 0, connection OK); returns the last status and
    whether it got there within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not until(status["code"]):
        if time.monotonic() >= deadline:
            return status, False
        time.sleep(POLL_INTERVAL)
        status = read_status(client)
    return status, True


# A device may take a moment to start trying the link it was just given; until then it reports the old one.
TRYING_GRACE = 2.0


def _settled_status(client, params):
    """The link status once the device has tried the link it was given (bounded by wait_timeout).

    Status 1 (trying) is waited out; a status other than 1 counts only once 1 was seen or TRYING_GRACE passed,
    so the old link's status is not taken for the new one's.
    """
    started = time.monotonic()
    deadline = started + params["wait_timeout"]
    seen_trying = False
    while True:
        status = read_status(client)
        now = time.monotonic()
        if status["code"] == 1:
            seen_trying = True
        elif seen_trying or now - started >= min(TRYING_GRACE, params["wait_timeout"]):
            return status
        if now >= deadline:
            return status
        time.sleep(POLL_INTERVAL)


SETVAPIXPARAMS = "remotecameracontrol/setvapixparams.cgi"


def run(client, params, check_mode):
    """Apply the desired link; returns the result dict of the module."""
    current = read_params(client)
    status = read_status(client)
    if status["code"] == 1 and params.get("remote_password") is not None and params["update_password"] == "on_failure":
        # "Trying to connect" does not tell whether the stored password opens the PTZ: wait until it does.
        status, _up = wait_for_connection(client, params["wait_timeout"], status, until=lambda code: code != 1)
    args, changed_keys, password = plan(params, current, status)
    after = dict(current)
    for _option, arg, key in FIELDS:
        if arg in args:
            after[key] = args[arg]
    diff = {"before": dict(current), "after": dict(after)}
    if password == "sent":
        diff["after"]["password"] = "(updated)"
    elif password == "if_refused":
        diff["after"]["password"] = "(sent if the PTZ refuses the stored one on the new link)"
    result = {"changed": bool(changed_keys), "changed_keys": changed_keys, "params": current,
              "status": status, "remote_url": None, "password_update": password, "diff": diff}
    if check_mode:
        result["params"] = after
        return result
    with reporting(result):
        return _apply(client, params, args, changed_keys, password, after, result)


def _apply(client, params, args, changed_keys, password, after, result):
    """The writes of a run and what they are checked by; a failure on the way carries `result`."""
    status = result["status"]
    if args:
        client.call(REMOTE_CAMERA_CONTROL, "setvapixparams", args)
        current = read_params(client)
        unapplied = [option for option, _arg, key in FIELDS
                     if option in changed_keys and not _applied(after[key], current[key], option)]
        result["params"] = current
        if unapplied:
            raise VapixError("the device answered success but did not apply %s (a device that ignores the "
                             "request's body does this)" % ", ".join(unapplied),
                             cgi=SETVAPIXPARAMS, host=client.host, result=result)
    if password != "not_sent":
        status = _settled_status(client, params)
        if password == "if_refused":
            if status["code"] == 3:
                client.call(REMOTE_CAMERA_CONTROL, "setvapixparams", {"password": params["remote_password"]})
                changed_keys.append("remote_password")
                result["changed"] = True
                password = result["password_update"] = "sent"
                status = _settled_status(client, params)
            else:
                password = result["password_update"] = "not_sent"
        if password == "sent" and status["code"] == 3:
            result["status"] = status
            raise VapixError("the PTZ still refuses the account after the password was sent (status 3, Not "
                             "authorized): check remote_username and remote_password (a device that ignores the "
                             "request's body does this too)", cgi=SETVAPIXPARAMS, host=client.host, result=result)
    elif args:
        status = read_status(client)
    if changed_keys:
        result["remote_url"] = read_remote_url(client)
    result["status"] = status
    if params.get("wait_for_connection"):
        status, up = wait_for_connection(client, params["wait_timeout"], status)
        result["status"] = status
        if not up:
            raise VapixError("the link from %s to its PTZ did not come up within %ss: %s%s"
                             % (client.host, params["wait_timeout"], describe_status(status), _hint(status)),
                             result=result)
    return result


def _applied(wanted, actual, option):
    if option == "remote_host":
        return _same_host(actual, wanted)
    return wanted == actual


def _hint(status):
    if status["code"] == 3:
        return " (the PTZ refused remote_username/remote_password; set update_password=always to resend it)"
    if status["code"] == 2:
        return " (check remote_host and http_port)"
    return ""

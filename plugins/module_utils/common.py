# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module shares: the connection options, their checks, and the client built from them.

Kept free of Ansible objects so that a module and a controller-side action plugin run the same code.
"""

from __future__ import annotations

import math
import re
import signal
import threading
from contextlib import contextmanager

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.vapix.q6000.plugins.module_utils.vapix import (
    HAS_REQUESTS,
    HAS_XMLTODICT,
    REQUESTS_IMPORT_ERROR,
    XMLTODICT_IMPORT_ERROR,
    VapixClient,
    VapixError,
)

CONNECTION_ARGUMENT_SPEC = dict(
    hostname=dict(type="str", required=True, fallback=(env_fallback, ["VAPIX_HOSTNAME"])),
    port=dict(type="int", fallback=(env_fallback, ["VAPIX_PORT"])),
    use_https=dict(type="bool", default=False, fallback=(env_fallback, ["VAPIX_USE_HTTPS"])),
    validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VAPIX_VALIDATE_CERTS"])),
    ca_path=dict(type="path", fallback=(env_fallback, ["VAPIX_CA_PATH"])),
    username=dict(type="str", required=True, fallback=(env_fallback, ["VAPIX_USERNAME"])),
    password=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["VAPIX_PASSWORD"])),
    auth=dict(type="str", default="digest", choices=["digest", "basic"], fallback=(env_fallback, ["VAPIX_AUTH"])),
    allow_basic_over_http=dict(type="bool", default=False),
    timeout=dict(type="float", default=10.0, fallback=(env_fallback, ["VAPIX_TIMEOUT"])),
    retries=dict(type="int", default=2),
)

# Where the controller reaches the PTZ, and the PTZ's account. The account is the one the Q6000-E uses on its
# PTZ too (remote_camera_params sets it there), so every module takes it from the same options.
PTZ_ARGUMENT_SPEC = dict(
    ptz_hostname=dict(type="str", fallback=(env_fallback, ["VAPIX_PTZ_HOSTNAME"])),
    ptz_port=dict(type="int", fallback=(env_fallback, ["VAPIX_PTZ_PORT"])),
    ptz_use_https=dict(type="bool"),
    ptz_validate_certs=dict(type="bool"),
    ptz_ca_path=dict(type="path"),
    remote_username=dict(type="str", fallback=(env_fallback, ["VAPIX_REMOTE_USERNAME"])),
    remote_password=dict(type="str", no_log=True, fallback=(env_fallback, ["VAPIX_REMOTE_PASSWORD"])),
)

# Characters that would end the host part of a URL or smuggle another argument or header into it.
_HOST_FORBIDDEN = re.compile(r"[\s/?#@&=%\\\"'<>{}|^`]")


class ValidationError(Exception):
    """Bad input found before any request; the message names the option."""


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


def client_from_params(params):
    return VapixClient(
        params["hostname"],
        port=params.get("port"),
        use_https=params["use_https"],
        validate_certs=params["validate_certs"],
        ca_path=params.get("ca_path"),
        username=params["username"],
        password=params["password"],
        auth=params["auth"],
        timeout=params["timeout"],
        retries=params["retries"],
    )


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived while a task ran; BaseException so that only cleanup code sees it."""


# The signal state of the running task: whether cleanup is shielded, and a signal that arrived meanwhile.
_SIGNALS = {"seen": False, "shield": 0, "pending": None}


def _interrupt(signum):
    return Interrupted("interrupted by %s" % signal.Signals(signum).name)


@contextmanager
def interrupts_raise():
    """Turn SIGTERM and SIGINT into Interrupted, so a session started on the device is aborted on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGNALS.update(seen=False, shield=0, pending=None)

    def handler(signum, _frame):
        # Only the first signal interrupts: the same one often arrives twice (from the terminal to the process
        # group, and forwarded by ansible-playbook), and a second one must not cut the abort short.
        if _SIGNALS["seen"]:
            return
        _SIGNALS["seen"] = True
        if _SIGNALS["shield"]:
            _SIGNALS["pending"] = signum
            return
        raise _interrupt(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def shielded():
    """Cleanup that a signal must not cut short (aborting a session, putting the PTZ back).

    A signal that arrives meanwhile interrupts right after it, unless a failure is already on its way out.
    """
    _SIGNALS["shield"] += 1
    try:
        yield
    except BaseException:
        _SIGNALS["shield"] -= 1
        raise
    _SIGNALS["shield"] -= 1
    pending = _SIGNALS["pending"]
    if pending is not None and not _SIGNALS["shield"]:
        _SIGNALS["pending"] = None
        raise _interrupt(pending)


@contextmanager
def reporting(result):
    """A failure inside carries `result` (a dict, or a function giving it): what the task had done so far."""
    try:
        yield
    except (VapixError, Interrupted) as exc:
        if getattr(exc, "result", None) is None:
            exc.result = result() if callable(result) else result
        raise


def execute(logic, params, check_mode):
    """Check the options, then run a task's logic with a client; always returns a result dict.

    `logic` is a module of this package with validate(params) and run(client, params, check_mode). A
    failure returns failed=True with msg and whatever the logic had done so far; warnings are collected from
    the client (a deprecated schema, for instance).
    """
    try:
        check_connection(params)
        logic.validate(params)
    except ValidationError as exc:
        return {"failed": True, "changed": False, "msg": str(exc)}
    client = client_from_params(params)
    try:
        with interrupts_raise():
            result = logic.run(client, params, check_mode)
    except ValidationError as exc:
        result = {"failed": True, "changed": False, "msg": str(exc)}
    except (VapixError, Interrupted) as exc:
        result = dict(getattr(exc, "result", None) or {"changed": False})
        result.update(failed=True, msg=str(exc))
        if getattr(exc, "unreachable", False) and client.answers == 0:
            # The unit never answered: Ansible counts a result that says unreachable (and not failed) as a host
            # not reached, in the PLAY RECAP and for ignore_unreachable.
            del result["failed"]
            result["unreachable"] = True
    finally:
        client.close()
    if client.warnings:
        result["warnings"] = list(client.warnings) + list(result.get("warnings", []))
    return result


def argument_spec(task_spec):
    """The full argument spec of a module: its own options plus the connection and PTZ options."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(PTZ_ARGUMENT_SPEC)
    spec.update(task_spec)
    return spec


def run_module(logic):
    """main() of a module: the task's logic behind AnsibleModule's validation, check mode and no_log."""
    module = AnsibleModule(argument_spec=argument_spec(logic.ARGUMENT_SPEC), supports_check_mode=True)
    missing = missing_libraries(logic)
    if missing:
        module.fail_json(msg=missing_required_lib(missing[0]), exception=missing[1])
    result = execute(logic, module.params, module.check_mode)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)

# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that speaks HTTP to a camera.

Every module and action plugin of the collection goes through VapixClient, so that authentication, TLS,
retries, size limits, XML parsing and the wording of errors are decided once. The client knows the wire
contract (two XML APIs, param.cgi and ptz.cgi) and nothing about Ansible.
"""

from __future__ import annotations

import ipaddress
import time
import traceback
from xml.parsers.expat import ExpatError

try:
    import requests
    from requests.auth import HTTPBasicAuth, HTTPDigestAuth
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

try:
    import xmltodict
except ImportError:
    HAS_XMLTODICT = False
    XMLTODICT_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_XMLTODICT = True
    XMLTODICT_IMPORT_ERROR = None


REMOTE_CAMERA_CONTROL = "remotecameracontrol"
PT_REMOTE_CALIBRATION = "ptremotecalibration"

ROOT_ELEMENTS = {
    REMOTE_CAMERA_CONTROL: "RemoteCameraControlResponse",
    PT_REMOTE_CALIBRATION: "PTRemoteCalibrationResponse",
}

# The minimum role of each CGI (spec: role tables); named in 401 messages.
ROLES = {
    "remotecameracontrol/getvapixparams.cgi": "administrator",
    "remotecameracontrol/setvapixparams.cgi": "administrator",
    "remotecameracontrol/getvapixstatus.cgi": "viewer",
    "remotecameracontrol/getremoteurl.cgi": "viewer",
    "remotecameracontrol/schemaversions.cgi": "viewer",
    "com/ptz.cgi": "viewer",
    "param.cgi": "viewer",
}

# What to do about each GeneralError code of the two XML APIs.
ERROR_ADVICE = {
    10: "the device failed while processing the request; retry later or check the device's log",
    20: "the device refused the request as invalid (a bad or missing argument)",
    40: "this firmware does not speak schema version 1 of this API; check schemaversions.cgi and the firmware",
    50: "another calibration session is already open on this device; wait until it ends, "
        "or abort it (remote_calibration: abort_ongoing=true)",
    51: "the device found no calibration that fits these points; re-measure the points that fit worst",
    52: "the pan/tilt does not match where the selected pixel looks; re-measure this point",
    53: "no target was selected before ontarget.cgi",
    54: "no calibration session is open (the device may have rebooted or another client aborted it)",
}

STATUS_WORDS = {0: "Connection OK", 1: "Trying to connect", 2: "No connection", 3: "Not authorized"}

MAX_BODY = 1024 * 1024
SCHEMA_VERSION = "1"


class VapixError(Exception):
    """A failure talking to a device; the message names the device and the CGI."""

    def __init__(self, message, cgi=None, host=None):
        self.cgi = cgi
        self.host = host
        prefix = ""
        if cgi and host:
            prefix = "%s on %s: " % (cgi, host)
        super().__init__(prefix + message)


class TransportError(VapixError):
    """No usable HTTP answer: connection refused or dropped, timeout, TLS, truncated, oversized or garbled."""


class AuthError(VapixError):
    """HTTP 401: the account was refused or lacks the CGI's role."""


class NotSupportedError(VapixError):
    """HTTP 404: the firmware does not have this CGI."""


class DeviceError(VapixError):
    """A GeneralError answer of one of the XML APIs."""

    def __init__(self, code, description, cgi=None, host=None):
        self.code = code
        self.description = description
        advice = ERROR_ADVICE.get(code, "unknown error code")
        text = "error %s (%s): %s" % (code, description or "no description", advice)
        super().__init__(text, cgi=cgi, host=host)


class PtzError(VapixError):
    """An `Error: ...` answer of ptz.cgi."""


def format_host(host):
    """Bracket IPv6 literals for use in a URL."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        return host
    try:
        if ipaddress.ip_address(host).version == 6:
            return "[%s]" % host
    except ValueError:
        pass
    return host


def says_stale(headers):
    """Whether a 401's challenge says the nonce is stale (the credentials were right)."""
    return "stale=true" in headers.get("WWW-Authenticate", "").lower().replace(" ", "")


def _text(value):
    """The text of an xmltodict node (a string, or a dict with attributes and '#text')."""
    if isinstance(value, dict):
        return value.get("#text")
    return value


if HAS_REQUESTS:

    class DigestAuth(HTTPDigestAuth):
        """requests' Digest authentication, plus one more round when the device says the nonce is stale.

        requests answers one 401 per request. A device that expired the nonce it had just handed out (or
        rebooted between the challenge and the answer) says `stale=true`: the credentials were right, only
        the nonce is new (RFC 7616), so one more round is due, and only one.
        """

        def __call__(self, r):
            r = super().__call__(r)
            self._thread_local.stale_retried = False
            return r

        def handle_401(self, r, **kwargs):
            response = super().handle_401(r, **kwargs)
            if (response is not r and response.status_code == 401 and says_stale(response.headers)
                    and not self._thread_local.stale_retried):
                self._thread_local.stale_retried = True
                self._thread_local.num_401_calls = 1
                response = super().handle_401(response, **kwargs)
            return response


class VapixClient:
    """A keep-alive HTTP session to one camera, with the contract's conventions built in.

    Reads are retried on connection errors, timeouts and 503 with a bounded backoff; writes are sent once,
    since a device may have acted on a request whose answer was lost.
    """

    def __init__(self, host, port=None, use_https=False, validate_certs=True, ca_path=None,
                 username=None, password=None, auth="digest", timeout=10.0, retries=2, backoff=0.5):
        scheme = "https" if use_https else "http"
        port_part = ":%d" % port if port else ""
        self.host = host
        self.base_url = "%s://%s%s" % (scheme, format_host(host), port_part)
        self.username = username
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.warnings = []
        self.requests_made = 0
        self._deprecated_seen = set()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "vapix.q6000"
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a session-wide setting.
        self.verify = ca_path if (use_https and validate_certs and ca_path) else bool(validate_certs)
        if username is not None and password is not None:
            self.session.auth = (HTTPBasicAuth if auth == "basic" else DigestAuth)(username, password)

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- HTTP -----------------------------------------------------------------------------------------

    def _send(self, cgi, params, write):
        """One CGI request; returns (status, headers, body bytes). Raises TransportError."""
        url = "%s/axis-cgi/%s" % (self.base_url, cgi)
        attempts = 1 if write else 1 + max(0, self.retries)
        failure = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(self.backoff * (2 ** (attempt - 1)), 5.0))
            self.requests_made += 1
            try:
                if write:
                    response = self.session.post(url, data=params, timeout=self.timeout, stream=True,
                                                 verify=self.verify)
                else:
                    response = self.session.get(url, params=params, timeout=self.timeout, stream=True,
                                                verify=self.verify)
                body = self._read_body(response, cgi)
            except requests.exceptions.SSLError as exc:
                raise TransportError("TLS failed (%s); check validate_certs and ca_path"
                                     % _reason(exc), cgi=cgi, host=self.host)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                failure = _describe_transport(exc, self.timeout)
                continue
            except requests.exceptions.RequestException as exc:
                raise TransportError("request failed: %s" % _reason(exc), cgi=cgi, host=self.host)
            if response.status_code == 503 and not write:
                failure = "HTTP 503 Service Unavailable"
                continue
            return response.status_code, response.headers, body
        if attempts > 1:
            failure += " (after %d attempts)" % attempts
        raise TransportError(failure, cgi=cgi, host=self.host)

    def _read_body(self, response, cgi):
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > MAX_BODY:
            response.close()
            raise TransportError("response of %s bytes is larger than the %d bytes a VAPIX answer can be"
                                 % (length, MAX_BODY), cgi=cgi, host=self.host)
        chunks = []
        size = 0
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > MAX_BODY:
                response.close()
                raise TransportError("response is larger than the %d bytes a VAPIX answer can be" % MAX_BODY,
                                     cgi=cgi, host=self.host)
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_status(self, cgi, status, headers):
        if status == 401:
            if says_stale(headers):
                raise AuthError("HTTP 401: the device declared every new nonce stale; check its clock and "
                                "its Digest settings", cgi=cgi, host=self.host)
            role = ROLES.get(cgi, "administrator")
            raise AuthError("HTTP 401: the device refused the account %r; %s needs the %s role (check username, "
                            "password and auth)" % (self.username, cgi, role), cgi=cgi, host=self.host)
        if status == 404:
            raise NotSupportedError("HTTP 404: this firmware does not have %s (the API is not supported)" % cgi,
                                    cgi=cgi, host=self.host)
        if status not in (200, 204):
            raise TransportError("HTTP %d from the device" % status, cgi=cgi, host=self.host)

    # --- the two XML APIs -----------------------------------------------------------------------------

    def call(self, api, name, params=None, write=False):
        """Call `<api>/<name>.cgi`; returns (success element name, its content).

        Raises DeviceError for a GeneralError answer.
        """
        cgi = "%s/%s.cgi" % (api, name)
        args = {} if name == "schemaversions" else {"schemaversion": SCHEMA_VERSION}
        args.update({k: v for k, v in (params or {}).items() if v is not None})
        status, headers, body = self._send(cgi, args, write)
        self._check_status(cgi, status, headers)
        deprecated, key, value = parse_answer(body, api, cgi, self.host)
        if deprecated and api not in self._deprecated_seen:
            self._deprecated_seen.add(api)
            self.warnings.append("%s: the device marks schema version %s of the %s API as deprecated; the "
                                 "collection speaks version 1, check the firmware's release notes"
                                 % (self.host, deprecated, api))
        return key, value

    # --- param.cgi and ptz.cgi ------------------------------------------------------------------------

    def param_list(self, *groups):
        """param.cgi action=list: returns {'Group.Param': value} without the 'root.' prefix."""
        cgi = "param.cgi"
        status, headers, body = self._send(cgi, {"action": "list", "group": ",".join(groups)}, False)
        self._check_status(cgi, status, headers)
        values = {}
        for line in body.decode("utf-8", "replace").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                raise VapixError("the device has no parameter group asked for (%s)" % line.lstrip("# "),
                                 cgi=cgi, host=self.host)
            key, sep, value = line.partition("=")
            if not sep:
                raise TransportError("unexpected line %r in the answer" % line[:80], cgi=cgi, host=self.host)
            if key.startswith("root."):
                key = key[5:]
            values[key] = value
        return values

    def ptz(self, params, write):
        """ptz.cgi: returns None for a move (204), or the `key=value` lines of a query as a dict."""
        cgi = "com/ptz.cgi"
        status, headers, body = self._send(cgi, params, write)
        self._check_status(cgi, status, headers)
        text = body.decode("utf-8", "replace").strip()
        if status == 204:
            return None
        if text.startswith("Error"):
            raise PtzError("the device answered %r" % text[:200], cgi=cgi, host=self.host)
        values = {}
        for line in text.splitlines():
            key, sep, value = line.strip().partition("=")
            if sep:
                values[key] = value
        return values


def parse_answer(body, api, cgi=None, host=None):
    """Decode an answer of one of the XML APIs: (deprecated schema version or None, element name, content).

    Entity declarations are refused outright (an entity bomb never expands); a GeneralError becomes a
    DeviceError whatever element, ErrorDescription or Description, carries its text.
    """
    root_name = ROOT_ELEMENTS[api]
    try:
        document = xmltodict.parse(body, disable_entities=True)
    except ValueError as exc:
        raise TransportError("the answer declares XML entities, which are refused (%s)" % exc, cgi=cgi, host=host)
    except ExpatError as exc:
        raise TransportError("the answer is not well-formed XML (%s)" % exc, cgi=cgi, host=host)
    if not isinstance(document, dict) or root_name not in document:
        found = ", ".join(document) if isinstance(document, dict) else "nothing"
        raise TransportError("expected a %s, got %s" % (root_name, found), cgi=cgi, host=host)
    root = document[root_name] or {}
    deprecated = None
    if str(root.get("@Deprecated", "false")).lower() == "true":
        deprecated = root.get("@SchemaVersion", "?")
    children = [(key, value) for key, value in root.items() if not key.startswith(("@", "#"))]
    if not children:
        raise TransportError("the answer holds no result element", cgi=cgi, host=host)
    key, value = children[0]
    if key == "GeneralError":
        value = value or {}
        code = _text(value.get("ErrorCode"))
        description = _text(value.get("ErrorDescription", value.get("Description")))
        try:
            code = int(code)
        except (TypeError, ValueError):
            raise TransportError("GeneralError without a numeric ErrorCode", cgi=cgi, host=host)
        raise DeviceError(code, description, cgi=cgi, host=host)
    if not key.endswith("Success"):
        raise TransportError("unexpected answer element %s" % key, cgi=cgi, host=host)
    return deprecated, key, value


def _reason(exc):
    """The innermost reason of a requests exception, without the URL (which carries no secret, but is noise)."""
    inner = exc
    while getattr(inner, "__context__", None) is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = str(inner) or inner.__class__.__name__
    return text[:300]


def _describe_transport(exc, timeout):
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "could not connect within %ss" % timeout
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "no answer within %ss (timeout)" % timeout
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut short (truncated body)"
    text = _reason(exc)
    if "Connection refused" in text:
        return "connection refused (is the address and port right?)"
    if "IncompleteRead" in text or "Response ended prematurely" in text:
        return "the answer was cut short (truncated body)"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "closed connection" in text:
        return "the device closed the connection without an answer"
    return "connection failed: %s" % text

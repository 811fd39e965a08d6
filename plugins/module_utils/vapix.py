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
import math
import queue
import threading
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


from ansible_collections.vapix.q6000.plugins.module_utils._api_data import (
    CGIS,
    FLOAT,
    INT,
    ROOT_ELEMENTS,
    TIMEOUT_CLASSES,
    List,
    Optional,
)

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

# A 401's body is only the device's apology; more than this of it is not read.
CHALLENGE_MAX = 64 * 1024

SCHEMA_VERSION = "1"


class VapixError(Exception):
    """A failure talking to a device; the message names the device and the CGI.

    `code` is the device's error code when it gave one (kept when the error is re-raised in other words), and
    `result` what the task had done so far, so a failed task still reports it.
    """

    def __init__(self, message, cgi=None, host=None, code=None, result=None):
        self.cgi = cgi
        self.host = host
        self.code = code
        self.result = result
        prefix = "%s on %s: " % (cgi, host) if cgi and host else ""
        super().__init__(message if message.startswith(prefix) else prefix + message)

    def reworded(self, message, result=None):
        """The same failure in the words of the task that met it; keeps the class, code, CGI and device."""
        error = VapixError.__new__(type(self))
        error.__dict__.update(self.__dict__)
        VapixError.__init__(error, message, cgi=self.cgi, host=self.host, code=self.code,
                            result=result if result is not None else self.result)
        return error


class TransportError(VapixError):
    """No usable HTTP answer: connection refused or dropped, timeout, TLS, redirect, truncated, oversized or garbled.

    `unreachable` is true when the device never answered this client at all (the unit is not reached).
    """

    unreachable = False
    # True when the device did answer, with an HTTP status that is not a usable answer (a redirect, a 5xx).
    answered = False


class UnexpectedAnswerError(VapixError):
    """An answer that is well-formed but not of the shape the CGI's descriptor says."""


class AuthError(VapixError):
    """HTTP 401: the account was refused or lacks the CGI's role."""


class NotSupportedError(VapixError):
    """HTTP 404: the firmware does not have this CGI."""


class DeviceError(VapixError):
    """A GeneralError answer of one of the XML APIs."""

    def __init__(self, code, description, cgi=None, host=None):
        self.description = description
        advice = ERROR_ADVICE.get(code, "unknown error code")
        text = "error %s (%s): %s" % (code, description or "no description", advice)
        super().__init__(text, cgi=cgi, host=host, code=code)


class SessionBusyError(VapixError):
    """Another client's calibration session is open on the device; it is left alone."""


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
            # requests reads the whole challenge's body; read a bounded part of it first, so that a device
            # cannot send megabytes along with a challenge. A connection with unread bytes is not reused.
            if r.status_code == 401:
                body = r.raw.read(CHALLENGE_MAX + 1)
                if len(body) > CHALLENGE_MAX:
                    r.raw.close()
                    body = body[:CHALLENGE_MAX]
                r._content = body
            response = super().handle_401(r, **kwargs)
            if (response is not r and response.status_code == 401 and says_stale(response.headers)
                    and not self._thread_local.stale_retried):
                self._thread_local.stale_retried = True
                self._thread_local.num_401_calls = 1
                response = super().handle_401(response, **kwargs)
            return response

    class _Session(requests.Session):
        """A session that never follows a redirect, nor reads a redirect's body to find where it points."""

        def get_redirect_target(self, resp):
            return None


class _Worker:
    """A daemon thread that runs one client's requests, one at a time.

    requests bounds each socket operation, not a request: a device that trickles its headers, a challenge or a
    body holds it as long as it likes. The caller waits for the worker until the request's deadline instead, and
    abandons a worker that overran it for a fresh one (a daemon thread ends with the process). The requests of one
    worker share its thread, so Digest's per-thread nonce state carries over from one request to the next.
    """

    def __init__(self):
        self.jobs = queue.Queue()
        threading.Thread(target=self._serve, daemon=True, name="vapix-request").start()

    def _serve(self):
        while True:
            job = self.jobs.get()
            if job is None:
                return
            job()

    def run(self, function, timeout):
        """function() in the worker; raises _Deadline when it has not returned within `timeout` seconds."""
        done = threading.Event()
        outcome = {}

        def job():
            try:
                outcome["value"] = function()
            except BaseException as exc:  # handed to the caller, whatever it is
                outcome["error"] = exc
            finally:
                done.set()

        self.jobs.put(job)
        if not done.wait(timeout):
            raise _Deadline(timeout)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def stop(self):
        self.jobs.put(None)


class VapixClient:
    """A keep-alive HTTP session to one camera, with the contract's conventions built in.

    Each request has one deadline (its CGI's timeout class times `timeout`) for connecting, the headers and the
    whole body, so a device that answers slowly cannot hold a task. Reads are retried on connection errors,
    timeouts and 503 with a bounded backoff; writes are sent once, since a device may have acted on a request
    whose answer was lost. No redirect is followed: it would carry the credentials (and a write) elsewhere.
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
        self.answers = 0
        self._deprecated_seen = set()
        self.session = _Session()
        self.session.headers["User-Agent"] = "vapix.q6000"
        # No compressed answers: a small compressed body could expand past every size cap.
        self.session.headers["Accept-Encoding"] = "identity"
        self._worker = None
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a session-wide setting.
        self.verify = ca_path if (use_https and validate_certs and ca_path) else bool(validate_certs)
        if username is not None and password is not None:
            self.session.auth = (HTTPBasicAuth if auth == "basic" else DigestAuth)(username, password)

    def close(self):
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- HTTP -----------------------------------------------------------------------------------------

    def _send(self, cgi, params):
        """One request as the CGI's descriptor says; returns (status, headers, body bytes). Raises TransportError."""
        url = "%s/axis-cgi/%s" % (self.base_url, cgi.path)
        attempts = 1 if cgi.write else 1 + max(0, self.retries)
        budget = self.timeout * TIMEOUT_CLASSES[cgi.timeout]
        failure = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(self.backoff * (2 ** (attempt - 1)), 5.0))
            self.requests_made += 1
            try:
                response, body = self._within_deadline(lambda: self._exchange(cgi, url, params, budget), budget)
            except requests.exceptions.SSLError as exc:
                raise TransportError("TLS failed (%s); check validate_certs and ca_path"
                                     % _reason(exc), cgi=cgi.path, host=self.host)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError, _Deadline) as exc:
                failure = _describe_transport(exc, budget)
                continue
            except (requests.exceptions.RequestException, ValueError) as exc:
                # ValueError: requests refuses a header it cannot send (a control character in an account, say);
                # the message names the problem, never the header's value.
                raise TransportError("request failed: %s" % exc.__class__.__name__, cgi=cgi.path, host=self.host)
            if response.status_code == 503 and not cgi.write:
                failure = "HTTP 503 Service Unavailable"
                continue
            return response.status_code, response.headers, body
        if attempts > 1:
            failure += " (after %d attempts)" % attempts
        error = TransportError(failure, cgi=cgi.path, host=self.host)
        error.answered = failure.startswith("HTTP")
        error.unreachable = self.answers == 0 and not error.answered
        raise error

    def _within_deadline(self, function, budget):
        """function() in this client's worker, within `budget` seconds from now; a worker that overran is dropped."""
        if self._worker is None:
            self._worker = _Worker()
        try:
            return self._worker.run(function, budget)
        except BaseException as exc:
            if isinstance(exc, _Deadline) or not isinstance(exc, Exception):
                # Still busy (too slow, or the caller was interrupted): the next request gets a worker of its own.
                self._worker.stop()
                self._worker = None
            raise

    def _exchange(self, cgi, url, params, budget):
        """The request and its whole answer (in the worker thread)."""
        if cgi.post:
            response = self.session.post(url, data=params, timeout=budget, stream=True, verify=self.verify,
                                         allow_redirects=False)
        else:
            response = self.session.get(url, params=params, timeout=budget, stream=True, verify=self.verify,
                                        allow_redirects=False)
        self.answers += 1
        return response, self._read_body(response, cgi)

    def _read_body(self, response, cgi):
        """The body, within the CGI's size cap."""
        length = response.headers.get("Content-Length")
        if length and length.isascii() and length.isdigit() and int(length) > cgi.max_body:
            response.close()
            raise TransportError("response of %s bytes is larger than the %d bytes %s can answer"
                                 % (length, cgi.max_body, cgi.path), cgi=cgi.path, host=self.host)
        chunks = []
        size = 0
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > cgi.max_body:
                response.close()
                raise TransportError("response is larger than the %d bytes %s can answer" % (cgi.max_body, cgi.path),
                                     cgi=cgi.path, host=self.host)
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_status(self, cgi, status, headers):
        if status == 401:
            if says_stale(headers):
                raise AuthError("HTTP 401: the device declared every new nonce stale; check its clock and "
                                "its Digest settings", cgi=cgi.path, host=self.host)
            raise AuthError("HTTP 401: the device refused the account %r; %s needs the %s role (check the username, "
                            "password and auth)" % (self.username, cgi.path, cgi.role), cgi=cgi.path, host=self.host)
        if status == 404:
            raise NotSupportedError("HTTP 404: this firmware does not have %s (the API is not supported)" % cgi.path,
                                    cgi=cgi.path, host=self.host)
        if 300 <= status < 400:
            location = redact(headers.get("Location", "(no Location)"))
            raise _answered(TransportError("HTTP %d redirect to %s, which is not followed (it would take the "
                                           "credentials along); give the device's own address and port"
                                           % (status, location), cgi=cgi.path, host=self.host))
        if status not in (200, 204):
            raise _answered(TransportError("HTTP %d from the device" % status, cgi=cgi.path, host=self.host))

    def request(self, name, params=None):
        """Send the CGI named in the wire table; returns (status, body bytes) of an answer it may take."""
        cgi = CGIS[name]
        status, headers, body = self._send(cgi, params or {})
        if cgi.api and status in (400, 500) and body.lstrip().startswith(b"<"):
            # Some firmware sends a GeneralError with an HTTP error status: the body still says what went wrong.
            try:
                parse_answer(body, cgi, self.host)
            except (TransportError, UnexpectedAnswerError):
                pass
        self._check_status(cgi, status, headers)
        return status, headers, body

    # --- the two XML APIs -----------------------------------------------------------------------------

    def call(self, api, name, params=None):
        """Call `<api>/<name>.cgi`; returns (success element name, its content in the descriptor's shape).

        Raises DeviceError for a GeneralError answer, UnexpectedAnswerError for an answer of another shape.
        """
        cgi = CGIS["%s/%s.cgi" % (api, name)]
        args = {} if name == "schemaversions" else {"schemaversion": SCHEMA_VERSION}
        args.update({k: v for k, v in (params or {}).items() if v is not None})
        _status, _headers, body = self.request(cgi.name, args)
        deprecated, key, value = parse_answer(body, cgi, self.host)
        if deprecated and api not in self._deprecated_seen:
            self._deprecated_seen.add(api)
            self.warnings.append("%s: the device marks schema version %s of the %s API as deprecated; the "
                                 "collection speaks version 1, check the firmware's release notes"
                                 % (self.host, deprecated, api))
        return key, value

    # --- param.cgi, ptz.cgi and image.cgi -------------------------------------------------------------

    def param_list(self, *groups):
        """param.cgi action=list: returns ({'Group.Param': value} without 'root.', [groups the device lacks]).

        A device answers `# Error:` lines for groups it does not have and still lists the others; which of them
        a task cannot do without is for the task to say.
        """
        cgi = CGIS["param.cgi"]
        _status, _headers, body = self.request(cgi.name, {"action": "list", "group": ",".join(groups)})
        values = {}
        missing = []
        for line in body.decode("utf-8", "replace").splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                missing.append(line.lstrip("# ")[:200])
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise UnexpectedAnswerError("unexpected line %r in the answer" % line[:80], cgi=cgi.path,
                                            host=self.host)
            if key.startswith("root."):
                key = key[5:]
            values[key] = value
        return values, missing

    def param_values(self, *names):
        """The named parameters (full dotted names); fails naming any the device does not list."""
        values, missing = self.param_list(*names)
        absent = [name for name in names if name not in values]
        if absent:
            raise UnexpectedAnswerError("the device does not list %s%s" % (
                ", ".join(absent), " (it said: %s)" % "; ".join(missing) if missing else ""),
                cgi="param.cgi", host=self.host)
        return values

    def ptz(self, params, write):
        """ptz.cgi: returns None for a move (204), or the `key=value` lines of a query as a dict."""
        cgi = CGIS["com/ptz.cgi move" if write else "com/ptz.cgi"]
        status, _headers, body = self.request(cgi.name, params)
        text = body.decode("utf-8", "replace").strip()
        if status == 204:
            return None
        if text.startswith("Error"):
            raise PtzError("the device answered %r" % text[:200], cgi=cgi.path, host=self.host)
        values = {}
        for line in text.splitlines():
            key, sep, value = line.strip().partition("=")
            if sep:
                values[key] = value
        return values

    def snapshot(self, params=None):
        """image.cgi: the JPEG bytes of a snapshot."""
        cgi = CGIS["jpg/image.cgi"]
        _status, headers, body = self.request(cgi.name, params)
        kind = headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "image/jpeg" or not body.startswith(b"\xff\xd8"):
            raise UnexpectedAnswerError("expected a JPEG image, got %s (%r)" % (kind or "no Content-Type",
                                                                                body[:60]),
                                        cgi=cgi.path, host=self.host)
        return body


class _Deadline(Exception):
    """The request's deadline passed while the answer was still coming."""


def _answered(error):
    error.answered = True
    return error


def redact(url):
    """A URL without the user:password@ part a redirect might carry."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url[:200]
    authority, slash, path = rest.partition("/")
    return (scheme + "://" + authority.rpartition("@")[2] + slash + path)[:200]


def _check_shape(value, shape, where):
    """`value` (xmltodict's) converted to `shape`; raises ValueError naming the element where it differs."""
    if isinstance(shape, Optional):
        return None if value is None else _check_shape(value, shape.shape, where)
    if isinstance(shape, List):
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [_check_shape(item, shape.shape, "%s[%d]" % (where, i)) for i, item in enumerate(items)]
    if isinstance(shape, dict):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ValueError("%s holds text where elements were expected" % where)
        return {name: _check_shape(value.get(name), child, "%s/%s" % (where, name)) for name, child in shape.items()}
    text = _text(value)
    if isinstance(value, (dict, list)) and text is None and value:
        raise ValueError("%s holds elements where text was expected" % where)
    if text is None:
        raise ValueError("%s is missing or empty" % where)
    if not isinstance(text, str):
        raise ValueError("%s holds elements where text was expected" % where)
    text = text.strip()
    try:
        if shape == INT:
            return int(text)
        if shape == FLOAT:
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(text)
            return number
    except ValueError:
        raise ValueError("%s is %r, not a number" % (where, text[:40]))
    return text


def parse_answer(body, cgi, host=None):
    """Decode an answer of one of the XML APIs: (deprecated schema version or None, element name, content).

    Entity declarations are refused outright (an entity bomb never expands); a GeneralError becomes a
    DeviceError whatever element, ErrorDescription or Description, carries its text; a success element the
    descriptor does not allow, or content of another shape, becomes an UnexpectedAnswerError.
    """
    root_name = ROOT_ELEMENTS[cgi.api]
    # Some firmware sends a line break before the XML declaration, which XML itself does not allow.
    body = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    try:
        document = xmltodict.parse(body, disable_entities=True)
    except ValueError as exc:
        raise TransportError("the answer declares XML entities, which are refused (%s)" % exc, cgi=cgi.path, host=host)
    except ExpatError as exc:
        raise UnexpectedAnswerError("the answer is not well-formed XML (%s): %r" % (exc, body[:80]),
                                    cgi=cgi.path, host=host)
    if not isinstance(document, dict) or root_name not in document:
        found = ", ".join(document) if isinstance(document, dict) else "nothing"
        raise UnexpectedAnswerError("expected a %s, got %s" % (root_name, found), cgi=cgi.path, host=host)
    root = document[root_name] or {}
    if not isinstance(root, dict):
        raise UnexpectedAnswerError("the %s holds only text (%r)" % (root_name, str(root)[:80]),
                                    cgi=cgi.path, host=host)
    deprecated = None
    if str(root.get("@Deprecated", "false")).lower() == "true":
        deprecated = root.get("@SchemaVersion", "?")
    children = [(key, value) for key, value in root.items() if not key.startswith(("@", "#"))]
    if not children:
        raise UnexpectedAnswerError("the answer holds no result element", cgi=cgi.path, host=host)
    key, value = children[0]
    if key == "GeneralError":
        value = value if isinstance(value, dict) else {}
        code = _text(value.get("ErrorCode"))
        description = _text(value.get("ErrorDescription", value.get("Description")))
        try:
            code = int(code)
        except (TypeError, ValueError):
            raise UnexpectedAnswerError("GeneralError without a numeric ErrorCode (%r)" % str(code)[:40],
                                        cgi=cgi.path, host=host)
        raise DeviceError(code, description if isinstance(description, str) else None, cgi=cgi.path, host=host)
    if key not in cgi.success:
        raise UnexpectedAnswerError("expected %s, got %s" % (" or ".join(cgi.success), key), cgi=cgi.path, host=host)
    shape = cgi.success[key]
    if shape is None:
        return deprecated, key, None
    try:
        return deprecated, key, _check_shape(value, shape, key)
    except ValueError as exc:
        raise UnexpectedAnswerError("the answer is not of the expected shape: %s" % exc, cgi=cgi.path, host=host)


def _reason(exc):
    """The innermost reason of a requests exception, without the URL (which carries no secret, but is noise)."""
    inner = exc
    while getattr(inner, "__context__", None) is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = str(inner) or inner.__class__.__name__
    return text[:300]


def _describe_transport(exc, timeout):
    if isinstance(exc, _Deadline):
        return "no answer within %ss (timeout, or an answer too slow to finish in time)" % timeout
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

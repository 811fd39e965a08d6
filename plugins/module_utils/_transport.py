# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that speaks HTTP: a worker thread and deadlines, the session, authentication, TLS, retries.

Each request has one deadline (its CGI's timeout class times `timeout`) for connecting, the headers and the whole
body, so a device that answers slowly cannot hold a task. Reads are retried on connection errors, timeouts and 503
with a bounded backoff; writes are sent once, since a device may have acted on a request whose answer was lost.
No redirect is followed: it would carry the credentials (and a write) elsewhere.
"""

from __future__ import annotations

import ipaddress
import queue
import re
import ssl
import threading
import time
import traceback

try:
    import requests
    from requests.auth import HTTPBasicAuth, HTTPDigestAuth, _basic_auth_str
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

from ansible_collections.vapix.q6000.plugins.module_utils._api_data import TIMEOUT_CLASSES
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    AuthError,
    NotSupportedError,
    TransportError,
)

# A 401's body is only the device's apology; more than this of it is not read.
CHALLENGE_MAX = 64 * 1024


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


# A scheme opens each challenge of WWW-Authenticate (several headers arrive joined by commas): a token followed by a
# parameter (`Digest realm=...`) or by nothing (`Negotiate`), where a parameter's name is followed by `=`.
_SCHEME = re.compile(r"(?:^|,)\s*([A-Za-z][A-Za-z0-9_-]*)(?:\s+(?=[A-Za-z0-9_-]+\s*=)|\s*(?:,|$))")


def offered_schemes(headers):
    """The authentication schemes a 401 offers, lower case, in the order the device lists them."""
    return [scheme.lower() for scheme in _SCHEME.findall(headers.get("WWW-Authenticate", ""))]


def redact(url):
    """A URL without the user:password@ part a redirect might carry."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url[:200]
    authority, slash, path = rest.partition("/")
    return (scheme + "://" + authority.rpartition("@")[2] + slash + path)[:200]


if HAS_REQUESTS:

    def _read_challenge(r):
        """A 401's body, at most CHALLENGE_MAX bytes of it, so that a device cannot send megabytes along with a
        challenge (requests would read it all). A connection with unread bytes is not reused."""
        if r.status_code == 401 and r._content is False:
            body = r.raw.read(CHALLENGE_MAX + 1)
            if len(body) > CHALLENGE_MAX:
                r.raw.close()
                body = body[:CHALLENGE_MAX]
            r._content = body

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
            _read_challenge(r)
            response = super().handle_401(r, **kwargs)
            if (response is not r and response.status_code == 401 and says_stale(response.headers)
                    and not self._thread_local.stale_retried):
                self._thread_local.stale_retried = True
                self._thread_local.num_401_calls = 1
                _read_challenge(response)
                response = super().handle_401(response, **kwargs)
            return response

    class AutoAuth(DigestAuth):
        """`auth: auto`: Digest whenever the device offers it, Basic only when it is the one scheme offered.

        Basic is taken only where it may be (`basic_allowed`: HTTPS, or allow_basic_over_http); once the device
        has asked for it, every later request carries it from the start, as Basic clients do.
        """

        def __init__(self, username, password, basic_allowed):
            super().__init__(username, password)
            self.basic_allowed = basic_allowed
            self.basic = False

        def __call__(self, r):
            if self.basic:
                r.headers["Authorization"] = _basic_auth_str(self.username, self.password)
                return r
            return super().__call__(r)

        def handle_401(self, r, **kwargs):
            schemes = offered_schemes(r.headers) if r.status_code == 401 else []
            if "digest" in schemes or "basic" not in schemes or not self.basic_allowed:
                return super().handle_401(r, **kwargs)
            self.basic = True
            _read_challenge(r)
            r.close()
            prep = r.request.copy()
            prep.headers["Authorization"] = _basic_auth_str(self.username, self.password)
            answer = r.connection.send(prep, **kwargs)
            answer.history.append(r)
            answer.request = prep
            return answer

    class _Session(requests.Session):
        """A session that never follows a redirect, nor reads a redirect's body to find where it points."""

        def get_redirect_target(self, resp):
            return None


class _Deadline(Exception):
    """The request's deadline passed while the answer was still coming."""


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


class Transport:
    """A keep-alive HTTP session to one camera: sends a CGI as its descriptor says and returns a usable answer."""

    def __init__(self, host, port=None, use_https=False, validate_certs=True, ca_path=None,
                 username=None, password=None, auth="auto", allow_basic_over_http=False, use_proxy=True,
                 timeout=10.0, retries=2, backoff=0.5):
        scheme = "https" if use_https else "http"
        port_part = ":%d" % port if port else ""
        self.host = host
        self.base_url = "%s://%s%s" % (scheme, format_host(host), port_part)
        self.username = username
        self.auth = auth
        self.basic_allowed = use_https or allow_basic_over_http
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.requests_made = 0
        self.answers = 0
        self.session = _Session()
        self.session.headers["User-Agent"] = "vapix.q6000"
        # No compressed answers: a small compressed body could expand past every size cap.
        self.session.headers["Accept-Encoding"] = "identity"
        self._worker = None
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a session-wide setting.
        self.verify = ca_path if (use_https and validate_certs and ca_path) else bool(validate_certs)
        # No proxy at all, whatever HTTP(S)_PROXY or ALL_PROXY say; None values drop what the environment would add.
        self.proxies = None if use_proxy else {"http": None, "https": None, "all": None}
        if username is not None and password is not None:
            if auth == "basic":
                self.session.auth = HTTPBasicAuth(username, password)
            elif auth == "digest":
                self.session.auth = DigestAuth(username, password)
            else:
                self.session.auth = AutoAuth(username, password, basic_allowed=self.basic_allowed)

    def close(self):
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self.session.close()

    def send(self, cgi, params):
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
                if not _cut_short(exc):
                    raise TransportError("TLS failed (%s); check validate_certs and ca_path"
                                         % _reason(exc), cgi=cgi.path, host=self.host)
                # A handshake cut short (a reset, an EOF) says nothing about the certificate: like any lost
                # connection, a read is tried again and a write is not.
                failure = "the TLS handshake was cut short (%s)" % _reason(exc)
                continue
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
        answered = failure.startswith("HTTP")
        raise TransportError(failure, cgi=cgi.path, host=self.host, answered=answered,
                             unreachable=self.answers == 0 and not answered)

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
        if cgi.method == "POST":
            response = self.session.post(url, data=params, timeout=budget, stream=True, verify=self.verify,
                                         allow_redirects=False, proxies=self.proxies)
        else:
            response = self.session.get(url, params=params, timeout=budget, stream=True, verify=self.verify,
                                        allow_redirects=False, proxies=self.proxies)
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

    def check_status(self, cgi, status, headers):
        """Refuse an HTTP status that is not an answer to decode, in words that say what to do."""
        if status == 401:
            schemes = offered_schemes(headers)
            if schemes and "digest" not in schemes and "basic" in schemes:
                advice = None
                if self.auth == "digest":
                    advice = "auth=digest forbids it; set auth=auto (or basic)"
                elif self.auth == "auto" and not self.basic_allowed:
                    advice = ("which would send the password in clear over HTTP; set use_https=true (the norm), or "
                              "allow_basic_over_http=true to accept that")
                if advice:
                    raise AuthError("HTTP 401: the device offers only Basic authentication, %s" % advice,
                                    cgi=cgi.path, host=self.host)
            if says_stale(headers):
                raise AuthError("HTTP 401: the device declared every new nonce stale; check its clock and "
                                "its Digest settings", cgi=cgi.path, host=self.host)
            raise AuthError("HTTP 401: the device refused the account %r; %s needs the %s role (check the username, "
                            "password and auth)" % (self.username, cgi.path, cgi.role), cgi=cgi.path, host=self.host)
        if status == 403:
            raise AuthError("HTTP 403: the device forbids %s to the account %r, which lacks the %s role it needs"
                            % (cgi.path, self.username, cgi.role), cgi=cgi.path, host=self.host)
        if status == 404:
            raise NotSupportedError("HTTP 404: this firmware does not have %s (the API is not supported)" % cgi.path,
                                    cgi=cgi.path, host=self.host)
        if 300 <= status < 400:
            location = redact(headers.get("Location", "(no Location)"))
            raise TransportError("HTTP %d redirect to %s, which is not followed (it would take the credentials "
                                 "along); give the device's own address and port" % (status, location),
                                 cgi=cgi.path, host=self.host, answered=True)
        if status not in (200, 204):
            raise TransportError("HTTP %d from the device" % status, cgi=cgi.path, host=self.host, answered=True)


def _cut_short(exc):
    """Whether a TLS failure is a handshake cut short (an EOF or a reset), which another attempt may get past.

    Anything else (a certificate not trusted or of another name, a protocol or cipher the device refuses) fails
    the same way every time.
    """
    inner = exc
    while inner is not None:
        if isinstance(inner, ssl.SSLCertVerificationError):
            return False
        if isinstance(inner, (ssl.SSLEOFError, ConnectionResetError)):
            return True
        inner = inner.__context__ if inner.__context__ is not inner else None
    text = str(exc)
    return any(sign in text for sign in ("EOF occurred", "UNEXPECTED_EOF", "Connection reset"))


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
    if "Connection reset" in text:
        return "the device reset the connection"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "closed connection" in text:
        return "the device closed the connection without an answer"
    return "connection failed: %s" % text

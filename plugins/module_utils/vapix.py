# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The thin client: the CGIs of the wire table called by name, over the transport, decoded by `_answers.py`.

Every module and action plugin of the collection talks to a camera through VapixClient, so that authentication,
TLS, retries, size limits, answer parsing and the wording of errors are decided once. It knows the wire contract
(two XML APIs, param.cgi, ptz.cgi and image.cgi) and nothing about Ansible.
"""

from __future__ import annotations

from ansible_collections.vapix.q6000.plugins.module_utils._answers import decode, parse_answer
from ansible_collections.vapix.q6000.plugins.module_utils._api_data import cgi as describe
from ansible_collections.vapix.q6000.plugins.module_utils._transport import Transport
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    TransportError,
    UnexpectedAnswerError,
)

STATUS_WORDS = {0: "Connection OK", 1: "Trying to connect", 2: "No connection", 3: "Not authorized"}

SCHEMA_VERSION = "1"


class VapixClient:
    """One camera, spoken to in CGIs; the transport's options are the constructor's (see `_transport.Transport`)."""

    def __init__(self, host, **options):
        self.transport = Transport(host, **options)
        self.host = host
        self.warnings = []
        self._deprecated_seen = set()

    @property
    def base_url(self):
        return self.transport.base_url

    @property
    def requests_made(self):
        """Requests sent, retries included."""
        return self.transport.requests_made

    @property
    def answers(self):
        """HTTP answers received; 0 means the device never answered this client."""
        return self.transport.answers

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, cgi, params=None):
        """Send `cgi` (a descriptor of the wire table) and decode its answer with the parser it names."""
        status, headers, body = self.transport.send(cgi, params or {})
        if cgi.api and status in (400, 500) and body.lstrip().startswith(b"<"):
            # Some firmware sends a GeneralError with an HTTP error status: the body still says what went wrong.
            try:
                parse_answer(body, cgi, self.host)
            except (TransportError, UnexpectedAnswerError):
                pass
        self.transport.check_status(cgi, status, headers)
        return decode(cgi, status, headers, body, self.host)

    def call(self, api, name, params=None):
        """Call `<api>/<name>.cgi`; returns (success element name, its content in the descriptor's shape).

        Raises DeviceError for a GeneralError answer, UnexpectedAnswerError for an answer of another shape.
        """
        args = {} if name == "schemaversions" else {"schemaversion": SCHEMA_VERSION}
        args.update({k: v for k, v in (params or {}).items() if v is not None})
        deprecated, key, value = self.request(describe("%s/%s.cgi" % (api, name)), args)
        if deprecated and api not in self._deprecated_seen:
            self._deprecated_seen.add(api)
            self.warnings.append("%s: the device marks schema version %s of the %s API as deprecated; the "
                                 "collection speaks version 1, check the firmware's release notes"
                                 % (self.host, deprecated, api))
        return key, value

    def param_list(self, *groups):
        """param.cgi action=list: ({'Group.Param': value} without 'root.', [groups the device lacks])."""
        return self.request(describe("param.cgi"), {"action": "list", "group": ",".join(groups)})

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
        return self.request(describe("com/ptz.cgi", write=write), params)

    def snapshot(self, params=None):
        """image.cgi: the JPEG bytes of a snapshot."""
        return self.request(describe("jpg/image.cgi"), params)

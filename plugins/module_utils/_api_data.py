# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wire, as data: one descriptor per CGI the collection calls (internal to the collection).

A descriptor says how a request is sent (its HTTP method: GET with a query string, or POST with a body for the
one CGI that may carry a password), whether it changes the device (a write is never retried), the role it
needs, how long to wait for it, what kind of body comes back and how large it may be, which parser of
`_answers.py` decodes it, and what shape a successful answer has. An answer of another shape is refused with a
message naming the CGI, so device data never reaches the logic as a surprise. A bad entry is refused when the
table is loaded. Adding a CGI is one entry here plus its logic.
"""

from __future__ import annotations

import re

from ansible_collections.vapix.q6000.plugins.module_utils.errors import WireTableError

REMOTE_CAMERA_CONTROL = "remotecameracontrol"
PT_REMOTE_CALIBRATION = "ptremotecalibration"

ROOT_ELEMENTS = {
    REMOTE_CAMERA_CONTROL: "RemoteCameraControlResponse",
    PT_REMOTE_CALIBRATION: "PTRemoteCalibrationResponse",
}

# The roles of an Axis account, lowest first.
ROLES = ("viewer", "operator", "administrator")

# Multiples of the `timeout` option per class: save.cgi fits the calibration before it answers.
TIMEOUT_CLASSES = {"read": 1.0, "write": 1.0, "save": 3.0, "snapshot": 2.0}

METHODS = ("GET", "POST")

# The parsers of `_answers.py`, each for one kind of body, with the most of it that is read.
XML, PARAM_LIST, PTZ_TEXT, JPEG = "xml", "param_list", "ptz_text", "jpeg"
MAX_BODY = {XML: 1024 * 1024, PARAM_LIST: 1024 * 1024, PTZ_TEXT: 1024 * 1024, JPEG: 16 * 1024 * 1024}

_PATH = re.compile(r"^[a-z]+(/[a-z]+)*\.cgi$")


# --- the shapes of success elements ------------------------------------------------------------------------
# A shape is TEXT, INT or FLOAT (an element's text, converted), a dict of child element -> shape, Optional(shape)
# or List(shape) (an element that may repeat; xmltodict gives one as a dict and several as a list). Elements a
# shape does not name are ignored, so a newer firmware's additions do not break the collection.

TEXT = "text"
INT = "int"
FLOAT = "float"


class Optional:
    def __init__(self, shape):
        self.shape = shape


class List:
    def __init__(self, shape):
        self.shape = shape


def _check_shape(shape, where):
    if isinstance(shape, (Optional, List)):
        _check_shape(shape.shape, where)
    elif isinstance(shape, dict):
        for name, child in shape.items():
            if not isinstance(name, str) or not name:
                raise WireTableError("%s: %r is not an element name" % (where, name))
            _check_shape(child, "%s/%s" % (where, name))
    elif shape not in (TEXT, INT, FLOAT):
        raise WireTableError("%s: %r is not a shape" % (where, shape))


STATUS = {"StatusCode": INT, "Description": Optional(TEXT)}


class Cgi:
    """How one CGI is called and what it answers; refuses a descriptor that does not make sense."""

    def __init__(self, path, role, parser, write=False, api=None, success=None, timeout=None, method="GET"):
        self.path = path
        self.role = role
        self.parser = parser
        self.write = write
        self.api = api
        self.success = success or {}
        self.timeout = timeout or ("write" if write else "read")
        self.method = method
        self._check()
        self.max_body = MAX_BODY[parser]

    def _check(self):
        where = "wire table, %s" % self.path
        if not isinstance(self.path, str) or not _PATH.match(self.path):
            raise WireTableError("%s: not a CGI path" % where)
        if self.role not in ROLES:
            raise WireTableError("%s: role %r is not one of %s" % (where, self.role, ", ".join(ROLES)))
        if self.parser not in MAX_BODY:
            raise WireTableError("%s: parser %r is not one of %s" % (where, self.parser, ", ".join(MAX_BODY)))
        if self.timeout not in TIMEOUT_CLASSES:
            raise WireTableError("%s: timeout class %r is not one of %s"
                                 % (where, self.timeout, ", ".join(TIMEOUT_CLASSES)))
        if self.method not in METHODS:
            raise WireTableError("%s: method %r is not one of %s" % (where, self.method, ", ".join(METHODS)))
        if self.method == "POST" and not self.write:
            raise WireTableError("%s: a POST is a write (it is never retried)" % where)
        if (self.parser == XML) != (self.api is not None):
            raise WireTableError("%s: the xml parser goes with an XML API, and only with one" % where)
        if self.api is not None:
            if self.api not in ROOT_ELEMENTS:
                raise WireTableError("%s: no root element is known for the API %r" % (where, self.api))
            if not self.path.startswith(self.api + "/"):
                raise WireTableError("%s: not a CGI of the API %s" % (where, self.api))
            if not self.success:
                raise WireTableError("%s: an XML CGI names the success elements it may answer" % where)
        elif self.success:
            raise WireTableError("%s: success shapes are for XML CGIs" % where)
        for name, shape in self.success.items():
            if shape is not None:
                _check_shape(shape, "%s: %s" % (where, name))

    def __repr__(self):
        return "Cgi(%s %s%s)" % (self.method, self.path, ", write" if self.write else "")


def _xml(api, name, role, success, write=False, timeout=None, method="GET"):
    """An XML-API CGI; `success` maps each success element it may answer to its shape (None: no content)."""
    return Cgi("%s/%s.cgi" % (api, name), role, XML, write=write, api=api, success=success, timeout=timeout,
               method=method)


def _index(entries):
    """The table by (path, write); one descriptor for each, or the table is refused."""
    table = {}
    for entry in entries:
        key = (entry.path, entry.write)
        if key in table:
            raise WireTableError("wire table, %s: described twice" % (entry,))
        table[key] = entry
    return table


GENERAL_SUCCESS = {"GeneralSuccess": None}
SCHEMA_VERSION_ENTRY = {"VersionNumber": TEXT, "Deprecated": Optional(TEXT)}
SCHEMA_VERSIONS = {"SchemaVersionSuccess": {"SchemaVersion": List(SCHEMA_VERSION_ENTRY)}}

TABLE = _index((
    _xml(REMOTE_CAMERA_CONTROL, "getvapixparams", "administrator", {"GetVapixParamsSuccess": {
        "BaseConnectionParams": {"MACAddress": Optional(TEXT), "Host": Optional(TEXT), "DiscoveryMode": TEXT},
        "VapixConnectionParams": {"HTTPPort": INT, "HTTPSPort": INT, "RTSPPort": INT, "Username": Optional(TEXT)},
    }}),
    # The one POST: its arguments may carry the PTZ's password, which belongs in a body, not in a URL.
    _xml(REMOTE_CAMERA_CONTROL, "setvapixparams", "administrator", GENERAL_SUCCESS, write=True, method="POST"),
    _xml(REMOTE_CAMERA_CONTROL, "getvapixstatus", "viewer", {"GetStatusSuccess": {
        "BaseConnectionStatus": STATUS,
        "VapixConnectionStatus": {"HTTPStatus": STATUS, "HTTPSStatus": STATUS, "RTSPStatus": STATUS},
    }}),
    _xml(REMOTE_CAMERA_CONTROL, "getremoteurl", "viewer", {"GetRemoteURLSuccess": Optional(TEXT)}),
    _xml(REMOTE_CAMERA_CONTROL, "schemaversions", "viewer", SCHEMA_VERSIONS),
    _xml(PT_REMOTE_CALIBRATION, "start", "administrator", GENERAL_SUCCESS, write=True),
    _xml(PT_REMOTE_CALIBRATION, "abort", "administrator", GENERAL_SUCCESS, write=True),
    _xml(PT_REMOTE_CALIBRATION, "selecttarget", "administrator",
         dict(GENERAL_SUCCESS, SelectTargetSuccess={"Pan": FLOAT, "Tilt": FLOAT}), write=True),
    _xml(PT_REMOTE_CALIBRATION, "ontarget", "administrator", GENERAL_SUCCESS, write=True),
    _xml(PT_REMOTE_CALIBRATION, "save", "administrator", GENERAL_SUCCESS, write=True, timeout="save"),
    _xml(PT_REMOTE_CALIBRATION, "getinformation", "administrator", {"GetInformationSuccess": {
        "Camera": INT, "CurrentTarget": Optional({"X": Optional(FLOAT), "Y": Optional(FLOAT)}),
    }}),
    _xml(PT_REMOTE_CALIBRATION, "iscalibrated", "administrator", {"IsCalibratedSuccess": {
        "Camera": List({"Id": INT, "Calibrated": INT}),
    }}),
    _xml(PT_REMOTE_CALIBRATION, "schemaversions", "administrator", SCHEMA_VERSIONS),
    Cgi("param.cgi", "viewer", PARAM_LIST),
    # Queries read; moves write (never retried). On the Q6000-E, center= moves the PTZ through a calibration.
    Cgi("com/ptz.cgi", "viewer", PTZ_TEXT),
    Cgi("com/ptz.cgi", "viewer", PTZ_TEXT, write=True),
    Cgi("jpg/image.cgi", "viewer", JPEG, timeout="snapshot"),
))


def cgi(path, write=None):
    """The descriptor of `path`; where a CGI both reads and writes (ptz.cgi), `write` says which is meant."""
    found = [entry for (where, writes), entry in TABLE.items() if where == path and write in (None, writes)]
    if len(found) != 1:
        raise WireTableError("wire table: %s descriptor for %s%s" % (
            "no" if not found else "more than one", path, "" if write is None else " (write=%s)" % write))
    return found[0]

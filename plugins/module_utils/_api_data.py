# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wire, as data: one descriptor per CGI the collection calls (internal to the collection).

The client reads a descriptor to know how to send a request (GET with a query string, or a POST body for the
one CGI that may carry a password), how long to wait for it, what kind of body comes back and how large it may
be, and what shape a successful answer has. An answer of another shape is refused with a message naming the
CGI, so device data never reaches the logic as a surprise. Adding a CGI is one entry here plus its logic.
"""

from __future__ import annotations

REMOTE_CAMERA_CONTROL = "remotecameracontrol"
PT_REMOTE_CALIBRATION = "ptremotecalibration"

ROOT_ELEMENTS = {
    REMOTE_CAMERA_CONTROL: "RemoteCameraControlResponse",
    PT_REMOTE_CALIBRATION: "PTRemoteCalibrationResponse",
}

# Multiples of the `timeout` option per class: save.cgi fits the calibration before it answers.
TIMEOUT_CLASSES = {"read": 1.0, "write": 1.0, "save": 3.0, "snapshot": 2.0}

XML, TEXT_BODY, JPEG = "xml", "text", "jpeg"
MAX_BODY = {XML: 1024 * 1024, TEXT_BODY: 1024 * 1024, JPEG: 16 * 1024 * 1024}


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


STATUS = {"StatusCode": INT, "Description": Optional(TEXT)}


class Cgi:
    """How one CGI is called and what it answers."""

    def __init__(self, path, role, write=False, api=None, success=None, timeout="read", body=XML, post=False,
                 name=None):
        self.name = name or path
        self.path = path
        self.role = role
        self.write = write
        self.api = api
        self.success = success or {}
        self.timeout = timeout
        self.body = body
        self.max_body = MAX_BODY[body]
        self.post = post

    def __repr__(self):
        return "Cgi(%s)" % self.path


def _xml(api, name, role, success, write=False, timeout=None, post=False):
    """An XML-API CGI; `success` maps each success element it may answer to its shape (None: no content)."""
    return Cgi("%s/%s.cgi" % (api, name), role, write=write, api=api, success=success,
               timeout=timeout or ("write" if write else "read"), post=post)


GENERAL_SUCCESS = {"GeneralSuccess": None}
SCHEMA_VERSION_ENTRY = {"VersionNumber": TEXT, "Deprecated": Optional(TEXT)}
SCHEMA_VERSIONS = {"SchemaVersionSuccess": {"SchemaVersion": List(SCHEMA_VERSION_ENTRY)}}

CGIS = {cgi.name: cgi for cgi in (
    _xml(REMOTE_CAMERA_CONTROL, "getvapixparams", "administrator", {"GetVapixParamsSuccess": {
        "BaseConnectionParams": {"MACAddress": Optional(TEXT), "Host": Optional(TEXT), "DiscoveryMode": TEXT},
        "VapixConnectionParams": {"HTTPPort": INT, "HTTPSPort": INT, "RTSPPort": INT, "Username": Optional(TEXT)},
    }}),
    # The one POST: its arguments may carry the PTZ's password, which belongs in a body, not in a URL.
    _xml(REMOTE_CAMERA_CONTROL, "setvapixparams", "administrator", GENERAL_SUCCESS, write=True, post=True),
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
    Cgi("param.cgi", "viewer", body=TEXT_BODY),
    # Queries read; moves write (never retried). On the Q6000-E, center= moves the PTZ through a calibration.
    Cgi("com/ptz.cgi", "viewer", body=TEXT_BODY),
    Cgi("com/ptz.cgi", "viewer", write=True, body=TEXT_BODY, name="com/ptz.cgi move"),
    Cgi("jpg/image.cgi", "viewer", body=JPEG, timeout="snapshot"),
)}

"""Bodies and argument rules shared by the two XML APIs (remote camera control, calibration).

The bodies follow the seed's examples byte for byte in structure: prolog, root element with
SchemaVersion and the schema location, one child, HTTP 200 and text/xml even for errors.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from .device import Unit

PROLOG = '<?xml version="1.0" encoding="utf-8" ?>'
XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass(frozen=True)
class Api:
    root: str
    xsd: str


REMOTE = Api("RemoteCameraControlResponse", "http://www.axis.com/vapix/http_cgi/RemoteCameraControl1.xsd")
CALIBRATION = Api("PTRemoteCalibrationResponse", "http://www.axis.com/vapix/http_cgi/PTRemoteCalibration1.xsd")

ERROR_TEXT = {
    10: "Error while processing the request.",
    20: "Invalid request.",
    40: "Specified version is not supported.",
    50: "Calibration is already ongoing. It is not possible to start a new calibration.",
    51: "A satisfying coordinate matching could not be found.",
    52: "The pan/tilt coordinates and the selected pixel coordinates (x and y) could not be matched.",
    53: "No pixel coordinates are selected.",
    54: "No calibration is ongoing.",
}

SCHEMA_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?$")


class ApiError(Exception):
    """A GeneralError answer: code plus an optional detail appended to the standard text."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    @property
    def text(self) -> str:
        return f"{ERROR_TEXT[self.code]} {self.detail}".strip()


def element(name: str, content: str | dict | list | None = None) -> str:
    """Serialize a small tree: dict = children in order, list = repeated children, None = empty."""
    if content is None:
        return f"<{name} />"
    if isinstance(content, dict):
        inner = "".join(element(k, v) for k, v in content.items())
    elif isinstance(content, list):
        inner = "".join(element(k, v) for item in content for k, v in item.items())
    else:
        inner = escape(str(content))
    return f"<{name}>{inner}</{name}>"


def document(api: Api, body: str, *, deprecated: bool, deprecated_false: bool = False, preamble: str = "") -> bytes:
    """The whole answer: `preamble` (bytes some firmware sends before the prolog), prolog, root, body.

    `Deprecated="true"` when deprecated; otherwise `Deprecated="false"` when deprecated_false, else no
    such attribute.
    """
    attrs = 'SchemaVersion="1.0"'
    if deprecated:
        attrs += ' Deprecated="true"'
    elif deprecated_false:
        attrs += ' Deprecated="false"'
    attrs += f' xmlns:xsi="{XSI}" xsi:noNamespaceSchemaLocation="{api.xsd}"'
    return f"{preamble}{PROLOG}<{api.root} {attrs}>{body}</{api.root}>".encode("utf-8")


def error_body(error: ApiError, element_name: str) -> str:
    return element("GeneralError", {"ErrorCode": str(error.code), element_name: error.text})


def schemaversions(unit: Unit, args: dict[str, str]) -> str:
    """schemaversions.cgi of either API: the one version, 1.0, deprecated when the unit's switch says so."""
    if args:
        raise ApiError(20, f"schemaversions.cgi takes no argument ({sorted(args)[0]} given).")
    deprecated = "true" if unit.settings.deprecated else "false"
    return element("SchemaVersionSuccess", [{"SchemaVersion": {"VersionNumber": "1.0", "Deprecated": deprecated}}])


def check_arguments(args: dict[str, str], allowed: set[str]) -> None:
    """Unknown arguments are invalid; schemaversion must name a supported version (1 or 1.0)."""
    unknown = sorted(set(args) - allowed - {"schemaversion"})
    if unknown:
        raise ApiError(20, f"Unknown argument: {unknown[0]}.")
    if "schemaversion" in args:
        match = SCHEMA_VERSION.match(args["schemaversion"])
        if not match or int(match.group(1)) != 1 or int(match.group(2) or 0) != 0:
            raise ApiError(40, f"Version {args['schemaversion']!r} is not supported.")


def parse_int(args: dict[str, str], name: str, low: int, high: int) -> int | None:
    """An optional integer argument in [low, high]; anything else is a 20."""
    if name not in args:
        return None
    text = args[name]
    if not re.fullmatch(r"[0-9]{1,9}", text) or not low <= int(text) <= high:
        raise ApiError(20, f"Invalid value for {name}: {text!r}.")
    return int(text)


def parse_float(args: dict[str, str], name: str, low: float, high: float) -> float | None:
    """An optional finite number in [low, high]; NaN, infinities and words are a 20."""
    if name not in args:
        return None
    text = args[name]
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text.strip()):
        raise ApiError(20, f"Invalid value for {name}: {text!r}.")
    value = float(text)
    if not math.isfinite(value) or not low <= value <= high:
        raise ApiError(20, f"Value for {name} out of range: {text!r}.")
    return value


def number(value: float, digits: int = 4) -> str:
    """Compact decimal text: `digits` decimals at most, no trailing zeros, no -0."""
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text

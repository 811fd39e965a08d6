# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every answer decoded through the wire table: the XML APIs' shapes, param.cgi's and ptz.cgi's text, JPEGs.

Each CGI's descriptor names its parser (`Cgi.parser`); `decode` runs it. A parser returns plain data or raises
an error of `errors.py` naming the CGI and the device, so an answer of an unexpected shape never reaches the
logic as a surprise.
"""

from __future__ import annotations

import math
import traceback
from xml.parsers.expat import ExpatError

try:
    import xmltodict
except ImportError:
    HAS_XMLTODICT = False
    XMLTODICT_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_XMLTODICT = True
    XMLTODICT_IMPORT_ERROR = None

from ansible_collections.vapix.q6000.plugins.module_utils._api_data import (
    FLOAT,
    INT,
    JPEG,
    PARAM_LIST,
    PTZ_TEXT,
    ROOT_ELEMENTS,
    XML,
    List,
    Optional,
)
from ansible_collections.vapix.q6000.plugins.module_utils.errors import (
    DeviceError,
    PtzError,
    TransportError,
    UnexpectedAnswerError,
)


def _text(value):
    """The text of an xmltodict node (a string, or a dict with attributes and '#text')."""
    if isinstance(value, dict):
        return value.get("#text")
    return value


def _convert(value, shape, where):
    """`value` (xmltodict's) converted to `shape`; raises ValueError naming the element where it differs."""
    if isinstance(shape, Optional):
        return None if value is None else _convert(value, shape.shape, where)
    if isinstance(shape, List):
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [_convert(item, shape.shape, "%s[%d]" % (where, i)) for i, item in enumerate(items)]
    if isinstance(shape, dict):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise ValueError("%s holds text where elements were expected" % where)
        return {name: _convert(value.get(name), child, "%s/%s" % (where, name)) for name, child in shape.items()}
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
        return deprecated, key, _convert(value, shape, key)
    except ValueError as exc:
        raise UnexpectedAnswerError("the answer is not of the expected shape: %s" % exc, cgi=cgi.path, host=host)


def parse_param_list(body, cgi, host=None):
    """param.cgi action=list: ({'Group.Param': value} without 'root.', [what the `# Error:` lines said]).

    A device answers `# Error:` lines for groups it does not have and still lists the others; which of them
    a task cannot do without is for the task to say.
    """
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
            raise UnexpectedAnswerError("unexpected line %r in the answer" % line[:80], cgi=cgi.path, host=host)
        if key.startswith("root."):
            key = key[5:]
        values[key] = value
    return values, missing


def parse_ptz_text(body, cgi, host=None, status=200):
    """ptz.cgi: None for a move's empty answer (204), or the `key=value` lines of a query as a dict."""
    text = body.decode("utf-8", "replace").strip()
    if status == 204:
        return None
    if text.startswith("Error"):
        raise PtzError("the device answered %r" % text[:200], cgi=cgi.path, host=host)
    values = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep:
            values[key] = value
    return values


def parse_jpeg(body, cgi, host=None, content_type=""):
    """image.cgi: the JPEG's bytes, once the answer says it is one and starts like one."""
    kind = content_type.split(";")[0].strip().lower()
    if body.lstrip().startswith(b"Error"):
        raise UnexpectedAnswerError("expected a JPEG image, the device answered %r"
                                    % body.strip()[:200].decode("utf-8", "replace"), cgi=cgi.path, host=host)
    if kind != "image/jpeg" or not body.startswith(b"\xff\xd8"):
        raise UnexpectedAnswerError("expected a JPEG image, got %s (%r)" % (kind or "no Content-Type", body[:60]),
                                    cgi=cgi.path, host=host)
    return body


# Each parser of the wire table, called with (body, cgi, host, status, headers).
PARSERS = {
    XML: lambda body, cgi, host, status, headers: parse_answer(body, cgi, host),
    PARAM_LIST: lambda body, cgi, host, status, headers: parse_param_list(body, cgi, host),
    PTZ_TEXT: lambda body, cgi, host, status, headers: parse_ptz_text(body, cgi, host, status),
    JPEG: lambda body, cgi, host, status, headers: parse_jpeg(body, cgi, host, headers.get("Content-Type", "")),
}


def decode(cgi, status, headers, body, host=None):
    """The answer to `cgi`, decoded by the parser its descriptor names."""
    return PARSERS[cgi.parser](body, cgi, host, status, headers)

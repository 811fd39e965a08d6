# -*- coding: utf-8 -*-
# Copyright: vapix.q6000 contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every error type of the collection, each with its whole state given when it is built.

Who catches what: the runner (`_runner.py`) turns ValidationError, VapixError and Interrupted into a failed task;
the logic catches the VapixError subclasses it can act on (a device error code, a lost save, a busy session).
"""

from __future__ import annotations

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


class WireTableError(ValueError):
    """A bad entry in the wire table (`_api_data.py`), refused when the table is loaded: a bug, never input."""


class ValidationError(Exception):
    """Bad input found before any request; the message names the option."""


class UnroutablePtzError(ValidationError):
    """The only address known for the PTZ is one the controller cannot route to (link-local)."""


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived while a task ran; BaseException so that only cleanup code sees it.

    `result` is what the task had done so far (set by `_interrupts.reporting` on the way out).
    """

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


class VapixError(Exception):
    """A failure talking to a device; the message names the device and the CGI.

    `words` is the message without the CGI and device it starts with (for a message that names them elsewhere).
    `code` is the device's error code when it gave one (kept when the error is re-raised in other words),
    `result` what the task had done so far, so a failed task still reports it, and `saved` whether a
    calibration whose save.cgi went unanswered took effect (yes, no or unknown; None when no save was lost).
    """

    def __init__(self, message, cgi=None, host=None, code=None, result=None, saved=None):
        self.cgi = cgi
        self.host = host
        self.code = code
        self.result = result
        self.saved = saved
        prefix = "%s on %s: " % (cgi, host) if cgi and host else ""
        self.words = message[len(prefix):] if prefix and message.startswith(prefix) else message  # no CGI, no device
        super().__init__(prefix + self.words)

    def reworded(self, message, result=None, saved=None):
        """The same failure in the words of the task that met it; keeps the class, state, code, CGI and device."""
        error = VapixError.__new__(type(self))
        error.__dict__.update(self.__dict__)
        VapixError.__init__(error, message, cgi=self.cgi, host=self.host, code=self.code,
                            result=result if result is not None else self.result,
                            saved=saved if saved is not None else self.saved)
        return error


class TransportError(VapixError):
    """No usable HTTP answer: connection refused or dropped, timeout, TLS, redirect, truncated, oversized or garbled.

    `answered`: the device did answer, with an HTTP status that is not a usable answer (a redirect, a 5xx).
    `unreachable`: the device never answered this client at all (the unit is not reached).
    """

    def __init__(self, message, cgi=None, host=None, answered=False, unreachable=False, **state):
        super().__init__(message, cgi=cgi, host=host, **state)
        self.answered = answered
        self.unreachable = unreachable


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


class DriftError(VapixError):
    """Heads whose image drift check found them moved, with no recapture asked: their point sets are stale."""


class PtzMovedError(VapixError):
    """Someone else moved the PTZ while the image work used it."""


class PtzRestlessError(VapixError):
    """The PTZ did not come to rest: still on its way, or kept moving by someone else (an autotracker, a person)."""


class CaptureError(VapixError):
    """A head for which too few targets could be matched with confidence."""


class TargetError(Exception):
    """A target that cannot be found or matched with confidence in a picture (the image work tries another)."""

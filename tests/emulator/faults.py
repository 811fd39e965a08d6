"""Armed faults: how a unit misbehaves on purpose, so clients can be tested against it.

A fault is armed for the next `count` requests to a CGI that pass authentication (a client's
first, credential-less request of a Digest exchange does not use it up). Patterns are matched
like shell globs against the counter key of the request (`/axis-cgi/param.cgi`,
`ptz:/axis-cgi/com/ptz.cgi`), so `*` matches every CGI of both endpoints.

Most kinds replace the CGI's answer (`answer`); the redirects answer without running it
(`redirect`); `trickle` and `late` let the CGI run and change how its answer goes out (`deliver`).

The `trickle_headers` setting is delivered here too (`slow_headers`, `SlowHeaders`): the status
line goes out at once, then each header line after a pause, then the body.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from fnmatch import fnmatchcase

from aiohttp import web

KINDS = ("latency", "drop", "http500", "http503", "malformed", "truncated", "entity_bomb", "huge_body",
         "reboot", "stale_nonce", "unauthorized", "redirect307", "redirect302", "trickle", "late")
AUTH_KINDS = ("stale_nonce", "unauthorized")
REDIRECT_KINDS = {"redirect307": (307, "Temporary Redirect"), "redirect302": (302, "Found")}
DELIVERY_KINDS = ("trickle", "late")
DEFAULT_LATENCY = 5.0
DEFAULT_SECONDS = 5.0  # trickle and late
TRICKLE_GAP = 0.25  # target gap between two pieces of a trickled body
MAX_GAP = 0.5  # no gap is ever longer than this
HUGE_BODY = 100 * 1024 * 1024
CHUNK = 1024 * 1024

MALFORMED = (b'<?xml version="1.0" encoding="utf-8" ?><RemoteCameraControlResponse SchemaVersion="1.0">'
             b'<GeneralSuccess></RemoteCameraControlResponse')
ENTITY_BOMB = (
    b'<?xml version="1.0" encoding="utf-8" ?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
        for i in range(1, 10))
    + b']>\n<RemoteCameraControlResponse SchemaVersion="1.0"><GeneralSuccess>&lol9;</GeneralSuccess>'
      b"</RemoteCameraControlResponse>"
)


@dataclass
class Fault:
    pattern: str
    kind: str
    remaining: int
    seconds: float | None = None

    def to_json(self) -> dict:
        return {"cgi": self.pattern, "kind": self.kind, "count": self.remaining, "seconds": self.seconds}


class FaultTable:
    """The faults armed on one unit, consumed in the order they were armed."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def arm(self, pattern: str, kind: str, count: int = 1, seconds: float | None = None) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if not isinstance(pattern, str) or not pattern:
            raise ValueError("cgi must be a path, a glob or '*'")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count must be an integer >= 1")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                    or seconds < 0):
            raise ValueError("seconds must be a number >= 0")
        fault = Fault(pattern, kind, count, None if seconds is None else float(seconds))
        self._faults.append(fault)
        return fault

    def take(self, key: str) -> Fault | None:
        for fault in self._faults:
            if fnmatchcase(key, fault.pattern):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def armed(self) -> list[dict]:
        return [f.to_json() for f in self._faults]


def close_connection(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()


class SlowHeaders:
    """Mixin for aiohttp responses: the head goes out one line at a time, `header_pause` seconds apart.

    aiohttp serializes status line and headers into one write (buffered with the body) and has no
    public hook to pace them, so this overrides its `_write_headers` step, which runs once every header
    is final (the `on_response_prepare` hooks included): the status line and the header lines go
    straight to the request's transport, each header line (the last with the blank line that ends the
    head) `header_pause` seconds after the line before, and aiohttp's writer is left nothing to send but
    the body, so keep-alive, HTTP/1.0 and Content-Length stay as aiohttp made them. A client that goes
    away meanwhile ends it quietly (aiohttp ignores a ConnectionError while it sends an answer).
    """

    header_pause: float = 0.0
    header_request: web.BaseRequest | None = None

    async def _write_headers(self) -> None:
        request = self.header_request
        if self.header_pause <= 0 or request is None:
            await super()._write_headers()  # type: ignore[misc]  # pylint: disable=no-member
            return
        version = request.version
        lines = [f"HTTP/{version.major}.{version.minor} {self.status} {self.reason}\r\n"]  # type: ignore[attr-defined]
        lines += [f"{name}: {value}\r\n" for name, value in self.headers.items()]  # type: ignore[attr-defined]
        lines[-1] += "\r\n"
        for index, line in enumerate(lines):
            if index:
                await asyncio.sleep(self.header_pause)
            transport = request.transport
            if transport is None or transport.is_closing():
                raise ConnectionResetError("the client went away while the headers trickled")
            transport.write(line.encode("latin-1"))


class SlowResponse(SlowHeaders, web.Response):
    pass


class SlowStreamResponse(SlowHeaders, web.StreamResponse):
    pass


def _pace(response: SlowHeaders, request: web.BaseRequest, header_pause: float) -> None:
    response.header_pause = header_pause
    response.header_request = request


def stream_response(request: web.BaseRequest, header_pause: float, **kwargs) -> web.StreamResponse:
    """A StreamResponse whose header lines go out `header_pause` seconds apart (when > 0)."""
    if header_pause <= 0:
        return web.StreamResponse(**kwargs)
    response = SlowStreamResponse(**kwargs)
    _pace(response, request, header_pause)
    return response


def slow_headers(request: web.BaseRequest, response: web.StreamResponse, header_pause: float) -> web.StreamResponse:
    """The same answer, its header lines sent `header_pause` seconds apart (`trickle_headers`). An answer
    already under way (a trickled or huge body) was made slow where it was made; others are left as they are."""
    if (header_pause <= 0 or response.prepared or not isinstance(response, web.Response)
            or isinstance(response, SlowHeaders)):
        return response
    slow = SlowResponse(status=response.status, reason=response.reason, body=response.body,
                        headers=response.headers)
    if response.keep_alive is False:
        slow.force_close()
    _pace(slow, request, header_pause)
    return slow


async def answer(fault: Fault, request: web.Request, header_pause: float = 0.0) -> web.StreamResponse | None:
    """The fault's answer; None means "answer normally" (after a delay for latency)."""
    kind = fault.kind
    if kind == "latency":
        await asyncio.sleep(DEFAULT_LATENCY if fault.seconds is None else fault.seconds)
        return None
    if kind in ("drop", "reboot"):
        close_connection(request)
        return web.Response(status=500)
    if kind == "http500":
        return web.Response(status=500, text="500 Internal Server Error\n")
    if kind == "http503":
        headers = {"Retry-After": str(int(fault.seconds))} if fault.seconds is not None else None
        return web.Response(status=503, text="503 Service Unavailable\n", headers=headers)
    if kind == "malformed":
        return web.Response(body=MALFORMED, content_type="text/xml")
    if kind == "entity_bomb":
        return web.Response(body=ENTITY_BOMB, content_type="text/xml")
    if kind == "truncated":
        body = MALFORMED[:60]
        if request.transport is not None:
            version = request.version
            request.transport.write(f"HTTP/{version.major}.{version.minor} 200 OK\r\nContent-Type: text/xml\r\n"
                                    f"Content-Length: {len(body) + 1000}\r\n\r\n".encode() + body)
        close_connection(request)
        return web.Response(status=500)
    if kind == "huge_body":
        return await _huge(request, header_pause)
    raise ValueError(kind)


def redirect(fault: Fault, location: str) -> web.Response:
    """A 302 or 307 to `location`, with a short text body; the CGI does not run."""
    status, reason = REDIRECT_KINDS[fault.kind]
    return web.Response(status=status, reason=reason, text=f"{status} {reason}: {location}\n",
                        content_type="text/plain", headers={"Location": location})


async def deliver(fault: Fault, request: web.Request, response: web.StreamResponse,
                  header_pause: float = 0.0) -> web.StreamResponse:
    """The CGI's own answer, already computed (its effect is in the state), sent late or slowly."""
    seconds = DEFAULT_SECONDS if fault.seconds is None else fault.seconds
    if fault.kind == "late":
        # A client that goes away meanwhile is no error: aiohttp drops the answer quietly, and
        # the CGI's effect stays, as on a device whose answer got lost.
        await asyncio.sleep(seconds)
        return response
    if fault.kind == "trickle":
        return await _trickle(request, response, seconds, header_pause)
    raise ValueError(fault.kind)


def trickle_schedule(length: int, seconds: float) -> list[tuple[float, int, int]]:
    """(when, start, end) of each piece of a body of `length` bytes spread over `seconds`: the
    first piece at 0, the last at `seconds`, evenly spaced, no gap over MAX_GAP (a body too short
    for that many pieces goes out in one-byte pieces MAX_GAP apart and finishes sooner)."""
    if length <= 0:
        return []
    gaps = max(1, math.ceil(seconds / TRICKLE_GAP)) if seconds > 0 else 0
    pieces = min(gaps + 1, length)
    gap = min(seconds / (pieces - 1), MAX_GAP) if pieces > 1 else 0.0
    bounds = [round(i * length / pieces) for i in range(pieces + 1)]
    return [(i * gap, bounds[i], bounds[i + 1]) for i in range(pieces)]


async def _trickle(request: web.Request, response: web.StreamResponse, seconds: float,
                   header_pause: float) -> web.StreamResponse:
    body = getattr(response, "body", None)
    if not isinstance(body, (bytes, bytearray)) or not body:
        return response  # nothing to spread (a PTZ move's 204): it goes out as it is
    slow = stream_response(request, header_pause, status=response.status, reason=response.reason)
    for name, value in response.headers.items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            slow.headers.add(name, value)
    slow.content_length = len(body)
    loop = asyncio.get_running_loop()
    try:
        await slow.prepare(request)
        started = loop.time()
        for when, start, end in trickle_schedule(len(body), seconds):
            wait = started + when - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await slow.write(bytes(body[start:end]))
        await slow.write_eof()
    except (ConnectionError, RuntimeError):
        close_connection(request)  # the client went away: stop quietly
    return slow


async def _huge(request: web.Request, header_pause: float) -> web.StreamResponse:
    response = stream_response(request, header_pause, headers={"Content-Type": "text/xml"})
    response.content_length = HUGE_BODY
    try:
        await response.prepare(request)
    except ConnectionError:
        close_connection(request)
        return response
    head = b'<?xml version="1.0" encoding="utf-8" ?><RemoteCameraControlResponse SchemaVersion="1.0">'
    chunk = b" " * CHUNK
    sent = 0
    try:
        await response.write(head)
        sent = len(head)
        while sent < HUGE_BODY:
            piece = chunk[: min(CHUNK, HUGE_BODY - sent)]
            await response.write(piece)
            sent += len(piece)
        await response.write_eof()
    except (ConnectionError, RuntimeError):
        close_connection(request)
    return response

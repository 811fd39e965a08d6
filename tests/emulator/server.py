"""HTTP side of the twin: one event loop, one aiohttp app per endpoint kind, one socket per endpoint.

Hundreds of units fit in one process because an endpoint is just a listening socket: every
socket of a kind feeds the same app, and a request finds its unit from the local port it came
in on. The order of checks per request is the firmware's: route (404), method (405), arguments,
authentication and role (401, or 403 for a known account whose role is too low with
`forbidden_status` 403), then faults, then the CGI itself (and, for save.cgi, the `save_delay`
before its answer goes out), then the delivery faults (`trickle`, `late`) that send its answer
slowly or late, and `trickle_headers`, which sends the head of any VAPIX answer line by line.

With `--tls`, the listening sockets are `ResettingSocket`s: `accept` hands every connection to the
event loop (which does the TLS handshake) except while the unit's `tls_reset` is above zero, when it
takes one, reads the client's first handshake bytes and closes the TCP connection with a reset.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import HttpVersion10, web
from multidict import CIMultiDict

from . import calibration, control, faults, imagecgi, inventory, params, ptzcgi, remote
from .auth import ROLES, Verdict
from .device import XML_PREAMBLES, Endpoint, Settings, Unit, accepted_schemes
from .state import StateStore
from .xmlapi import CALIBRATION, REMOTE, Api, ApiError, document, error_body

log = logging.getLogger("twin")

HTTP10 = "twin.http10"
UNAUTHORIZED_BODY = "<HTML><HEAD><TITLE>401 Unauthorized</TITLE></HEAD><BODY><H1>401 Unauthorized</H1>" \
                    "Your client does not have permission to get URL from this server.</BODY></HTML>\n"
FORBIDDEN_BODY = "<HTML><HEAD><TITLE>403 Forbidden</TITLE></HEAD><BODY><H1>403 Forbidden</H1>" \
                 "Your client does not have permission to get URL from this server.</BODY></HTML>\n"


@dataclass
class Options:
    units: int = 1
    listen: str = "127.0.0.1"
    base_port: int = 0
    inventory: Path | None = None
    state_dir: Path | None = None
    tls: bool = False
    seed: str = "1"
    settings: Settings = field(default_factory=Settings)


class ArgumentError(Exception):
    pass


@dataclass(frozen=True)
class Route:
    """A CGI: the role it needs (a function of its arguments for param.cgi), what answers it, and
    how long the answer waits after the CGI did its work (save.cgi's `save_delay`)."""

    role: Callable[[dict[str, str] | None], int]
    answer: Callable[[Endpoint, dict[str, str] | None, ArgumentError | None],
                     web.StreamResponse | Awaitable[web.StreamResponse]]
    delay: Callable[[Unit], float] | None = None


def _xml_route(api: Api, role: str, handler: Callable[[Unit, dict[str, str]], str],
               delay: Callable[[Unit], float] | None = None) -> Route:
    def answer(endpoint: Endpoint, args: dict[str, str] | None, problem: ArgumentError | None) -> web.Response:
        unit = endpoint.unit
        settings = unit.settings
        status = 200
        try:
            if args is None:
                raise ApiError(20, str(problem))
            body = handler(unit, args)
        except ApiError as exc:
            body = error_body(exc, settings.error_element)
            status = settings.error_status
        except Exception:
            log.exception("internal error in %s", handler.__name__)
            body = error_body(ApiError(10), settings.error_element)
            status = settings.error_status
        text = document(api, body, deprecated=settings.deprecated, deprecated_false=settings.deprecated_false,
                        preamble=XML_PREAMBLES[settings.xml_preamble])
        return web.Response(status=status, body=text, content_type="text/xml")

    level = ROLES[role]
    return Route(role=lambda args: level, answer=answer, delay=delay)


def _save_delay(unit: Unit) -> float:
    return unit.settings.save_delay


def _ptz_route(handler: Callable[[Unit, dict[str, str]], web.Response]) -> Route:
    def answer(endpoint: Endpoint, args: dict[str, str] | None, problem: ArgumentError | None) -> web.Response:
        if args is None:
            return ptzcgi.error(str(problem), endpoint.unit.settings.error_space)
        return handler(endpoint.unit, args)

    return Route(role=lambda args: ROLES["viewer"], answer=answer)


def _param_answer(endpoint: Endpoint, args: dict[str, str] | None, problem: ArgumentError | None) -> web.Response:
    text = params.error_line(endpoint, str(problem)) + "\n" if args is None else params.listing(endpoint, args)
    return web.Response(text=text, content_type="text/plain")


def _image_answer(endpoint: Endpoint, args: dict[str, str] | None, problem: ArgumentError | None):
    if args is None:
        return ptzcgi.error(str(problem), endpoint.unit.settings.error_space)
    return imagecgi.on_image(endpoint, args)


IMAGE_ROUTE = Route(role=lambda args: ROLES["viewer"], answer=_image_answer)
PARAM_ROUTE = Route(role=lambda args: ROLES["viewer"] if args is None or params.needs_login(args) else 0,
                    answer=_param_answer)

Q6000_ROUTES: dict[str, Route] = {
    **{f"/axis-cgi/remotecameracontrol/{name}": _xml_route(REMOTE, role, fn)
       for name, (role, fn) in remote.CGIS.items()},
    **{f"/axis-cgi/ptremotecalibration/{name}": _xml_route(
        CALIBRATION, role, fn, _save_delay if name == "save.cgi" else None)
       for name, (role, fn) in calibration.CGIS.items()},
    "/axis-cgi/param.cgi": PARAM_ROUTE,
    "/axis-cgi/com/ptz.cgi": _ptz_route(ptzcgi.on_overview),
    "/axis-cgi/jpg/image.cgi": IMAGE_ROUTE,
}
PTZ_ROUTES: dict[str, Route] = {
    "/axis-cgi/param.cgi": PARAM_ROUTE,
    "/axis-cgi/com/ptz.cgi": _ptz_route(ptzcgi.on_ptz),
    "/axis-cgi/jpg/image.cgi": IMAGE_ROUTE,
}


async def read_arguments(request: web.Request, use_body: bool = True) -> dict[str, str]:
    """Query string plus, for POST, the body read as a form whatever its Content-Type (as firmware
    does); with use_body false the body is read and dropped. A name given twice is an invalid request."""
    pairs = parse_qsl(request.raw_path.partition("?")[2], keep_blank_values=True, errors="replace")
    if request.method == "POST":
        body = await request.read()
        if body and use_body:
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
    args: dict[str, str] = {}
    for name, value in pairs:
        if name in args:
            raise ArgumentError(f"Argument {name} given more than once.")
        args[name] = value
    return args


def mark_http10(request: web.Request) -> None:
    """Answer this request as an HTTP/1.0 server does (`http10`): the status line says HTTP/1.0
    (aiohttp writes the request's version there, and offers no public way to choose it), and
    _close_http10 adds `Connection: close` and closes the connection after the answer."""
    request[HTTP10] = True
    request._version = HttpVersion10  # pylint: disable=protected-access


async def _close_http10(request: web.Request, response: web.StreamResponse) -> None:
    if request.get(HTTP10):
        response.force_close()
        response.headers["Connection"] = "close"


class Fleet:
    """All units of this process, their sockets and the two apps that serve them."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.store = StateStore(options.state_dir) if options.state_dir else None
        self.units: list[Unit] = []
        for index in range(options.units):
            settings = Settings(**vars(options.settings))
            unit = Unit(index, options.seed, options.listen, settings,
                        persist=self.store.save if self.store else None, tls=options.tls)
            self.units.append(unit)
        self.by_port: dict[int, Endpoint] = {}
        self.runners: list[web.AppRunner] = []
        self.ca_path: Path | None = None

    # -- requests -----------------------------------------------------------------------

    def _challenge(self, endpoint: Endpoint, stale: bool = False) -> web.Response:
        """401 with one WWW-Authenticate header per offered scheme (`auth_schemes`), in that order."""
        unit = endpoint.unit
        unit.unauthorized += 1
        headers: CIMultiDict[str] = CIMultiDict()
        for scheme in unit.settings.auth_schemes:
            if scheme == "digest":
                headers.add("WWW-Authenticate", endpoint.auth.challenge(unit.settings.digest_algorithm, stale=stale))
            else:
                headers.add("WWW-Authenticate", endpoint.auth.basic_challenge())
        return web.Response(status=401, text=UNAUTHORIZED_BODY, content_type="text/html", headers=headers)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        endpoint = self.by_port.get(sockname[1]) if sockname else None
        if endpoint is None:
            raise web.HTTPNotFound()
        unit = endpoint.unit
        path = request.raw_path.partition("?")[0]
        if endpoint.kind == "q6000" and (path == "/emulator" or path.startswith("/emulator/")):
            return await control.handle(unit, request)
        response = await self._vapix(request, endpoint, path)
        return faults.slow_headers(request, response, unit.settings.trickle_headers)

    async def _vapix(self, request: web.Request, endpoint: Endpoint, path: str) -> web.StreamResponse:
        """The answer of a VAPIX endpoint (Q6000-E or PTZ) to one request."""
        unit = endpoint.unit
        unit.saw_connection(request.transport)
        if unit.settings.http10:
            mark_http10(request)
        route = (Q6000_ROUTES if endpoint.kind == "q6000" else PTZ_ROUTES).get(path)
        if route is None:
            return web.Response(status=404, text="404 Not Found\n", content_type="text/plain")
        if request.method not in ("GET", "POST"):
            return web.Response(status=405, text="405 Method Not Allowed\n", content_type="text/plain",
                                headers={"Allow": "GET, POST"})
        args: dict[str, str] | None
        problem: ArgumentError | None = None
        try:
            args = await read_arguments(request, not (endpoint.kind == "q6000" and unit.settings.ignore_post_body))
        except ArgumentError as exc:
            args, problem = None, exc
        required = route.role(args)
        header = request.headers.get("Authorization")
        if required or header:
            verdict: Verdict = endpoint.auth.check(
                header, request.method, request.raw_path, schemes=accepted_schemes(unit.settings),
                nonce_lifetime=unit.settings.nonce_lifetime)
            if verdict.ok and verdict.role < required and unit.settings.forbidden_status == 403:
                log.debug("403 %s %s%s: %s may not use it", unit.name, endpoint.prefix, path, verdict.user)
                return web.Response(status=403, text=FORBIDDEN_BODY, content_type="text/html")
            if not verdict.ok or verdict.role < required:
                log.debug("401 %s %s%s: %s", unit.name, endpoint.prefix, path,
                          verdict.reason or f"{verdict.user} may not use it")
                return self._challenge(endpoint, stale=verdict.stale)
        key = endpoint.prefix + path
        unit.counters[key] += 1
        fault = unit.faults.take(key)
        if fault is not None:
            if fault.kind in faults.AUTH_KINDS:
                return self._challenge(endpoint, stale=fault.kind == "stale_nonce")
            if fault.kind in faults.REDIRECT_KINDS:
                return faults.redirect(fault, endpoint.other.base_url + request.raw_path)
            if fault.kind == "reboot":
                unit.reboot()
            if fault.kind not in faults.DELIVERY_KINDS:
                response = await faults.answer(fault, request, unit.settings.trickle_headers)
                if response is not None:
                    return response
        unit.guard_tour()
        unit.operator_tick()
        response = route.answer(endpoint, args, problem)
        if inspect.isawaitable(response):
            response = await response
        delay = route.delay(unit) if route.delay else 0.0
        if delay > 0:
            await asyncio.sleep(delay)
        if fault is not None and fault.kind in faults.DELIVERY_KINDS:
            return await faults.deliver(fault, request, response, unit.settings.trickle_headers)
        return response

    # -- lifecycle ----------------------------------------------------------------------

    def _bind(self, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.options.listen else socket.AF_INET
        if self.options.tls:
            from .tls import ResettingSocket

            sock: socket.socket = ResettingSocket(family, socket.SOCK_STREAM)
        else:
            sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.options.listen, port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    def _bind_preferred(self, preferred: int) -> socket.socket:
        """With --base-port 0, a restarted twin gets its old ports back when they are free."""
        if preferred:
            try:
                return self._bind(preferred)
            except OSError:
                pass
        return self._bind(0)

    def _sockets(self) -> list[tuple[Endpoint, socket.socket]]:
        bound = []
        base = self.options.base_port
        for unit in self.units:
            saved = (self.store.load(unit) or {}) if self.store else {}
            unit.load_state(saved)
            ports = saved.get("ports", {}) if saved.get("mac") == unit.q6000.mac else {}
            for offset, endpoint in enumerate((unit.q6000, unit.ptz)):
                if base:
                    sock = self._bind(base + 2 * unit.index + offset)
                else:
                    sock = self._bind_preferred(int(ports.get(endpoint.kind, 0) or 0))
                endpoint.port = sock.getsockname()[1]
                self.by_port[endpoint.port] = endpoint
                if self.options.tls:
                    sock.should_reset = unit.take_tls_reset  # type: ignore[attr-defined]
                    sock.label = f"{unit.name} {endpoint.kind}"  # type: ignore[attr-defined]
                bound.append((endpoint, sock))
            if self.store and ports != {"q6000": unit.q6000.port, "ptz": unit.ptz.port}:
                self.store.save(unit)
        return bound

    def _ssl_context(self):
        if not self.options.tls:
            return None
        from .tls import server_context

        inv, state_dir = self.options.inventory, self.options.state_dir
        self.ca_path = Path(f"{inv}.ca.pem") if inv else state_dir / "ca.pem"  # type: ignore[operator]
        return server_context(state_dir, self.ca_path.resolve(), self.options.listen)

    async def start(self) -> None:
        bound = self._sockets()
        ssl_context = self._ssl_context()
        apps = {}
        for kind in ("q6000", "ptz"):
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self.handle)
            app.on_response_prepare.append(_close_http10)
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
            await runner.setup()
            self.runners.append(runner)
            apps[kind] = runner
        for endpoint, sock in bound:
            site = web.SockSite(apps[endpoint.kind], sock, backlog=512, ssl_context=ssl_context)
            await site.start()
        if self.options.inventory:
            ca = self.ca_path.resolve() if self.ca_path else None
            inventory.write(self.options.inventory, self.units, tls=self.options.tls, ca_path=ca)

    async def stop(self) -> None:
        for runner in self.runners:
            await runner.cleanup()
        self.runners.clear()


async def serve(options: Options) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    fleet = Fleet(options)
    try:
        await fleet.start()
        inv = str(options.inventory.resolve()) if options.inventory else None
        sys.stdout.write("READY " + json.dumps({"units": len(fleet.units), "inventory": inv}) + "\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await fleet.stop()

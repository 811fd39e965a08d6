"""`python -m tests.emulator`: run a fleet of twins until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys
from pathlib import Path

from .device import (CURRENT_TARGETS, DIGEST_ALGORITHMS, ERROR_ELEMENTS, ERROR_STATUSES, FORBIDDEN_STATUSES,
                     HEAD_LENSES, XML_PREAMBLES, Settings)
from .server import Options, serve


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator",
                                     description="Device twin of AXIS Q6000-E units on AXIS Q60-E PTZs.")
    parser.add_argument("--units", type=int, default=1, help="units served by this process")
    parser.add_argument("--listen", default="127.0.0.1", help="loopback address every endpoint binds")
    parser.add_argument("--base-port", type=int, default=0,
                        help="0: free ports; else unit i serves its Q6000-E on P+2i and its PTZ on P+2i+1")
    parser.add_argument("--inventory", type=Path, help="write an Ansible YAML inventory of the fleet")
    parser.add_argument("--state-dir", type=Path, help="keep calibrations, link and knocks across restarts")
    parser.add_argument("--tls", action="store_true", help="every endpoint (Q6000-E and PTZ) speaks HTTPS")
    parser.add_argument("--seed", default="1", help="seeds the physical model and the passwords")
    parser.add_argument("--connect-delay", type=float, default=1.0,
                        help="seconds the link reports 1 (trying) after a change")
    parser.add_argument("--digest-algorithm", choices=DIGEST_ALGORITHMS, default="MD5",
                        help="algorithm the Digest challenge offers (none: no algorithm token, MD5)")
    parser.add_argument("--nonce-lifetime", type=float, default=300.0, help="seconds a nonce stays fresh")
    parser.add_argument("--allow-basic", action="store_true", help="also accept HTTP Basic")
    parser.add_argument("--deprecated", action="store_true", help='XML answers carry Deprecated="true"')
    parser.add_argument("--error-element", choices=ERROR_ELEMENTS, default="Description")
    parser.add_argument("--ptz-speed", type=float, default=300.0,
                        help="PTZ pan/tilt speed in degrees per second (0: moves at once)")
    parser.add_argument("--log-level", default="WARNING", help="log level on stderr")
    variance = parser.add_argument_group("firmware variance", "behaviours real firmware is known to vary in")
    variance.add_argument("--xml-preamble", choices=tuple(XML_PREAMBLES), default="none",
                          help="bytes before <?xml in every XML answer: none, crlf (\\r\\n) or blank (\\n)")
    variance.add_argument("--http10", action="store_true",
                          help="every VAPIX answer (both endpoints) is HTTP/1.0 with Connection: close")
    variance.add_argument("--error-status", type=int, choices=ERROR_STATUSES, default=200,
                          help="HTTP status of an XML GeneralError answer (body unchanged)")
    variance.add_argument("--current-target", choices=CURRENT_TARGETS, default="omit",
                          help="getinformation.cgi without a selected target: no CurrentTarget, X=0 Y=0, or empty")
    variance.add_argument("--param-lacks", default="", metavar="G1,G2,...",
                          help="parameters or groups the Q6000-E's param.cgi does not have")
    variance.add_argument("--ignore-post-body", action="store_true",
                          help="the Q6000-E reads arguments from the query string only")
    variance.add_argument("--ptz-start-delay", type=float, default=0.0, metavar="S",
                          help="seconds before the PTZ's motor starts after each move command")
    variance.add_argument("--remote-url-no-slash", dest="remote_url_slash", action="store_false",
                          help="getremoteurl.cgi answers http://host:port without the final slash")
    variance.add_argument("--deprecated-false", action="store_true",
                          help='XML answers carry Deprecated="false" (unless --deprecated)')
    variance.add_argument("--ptz-start-zoom", type=int, default=1, metavar="Z",
                          help="the PTZ's zoom at start and after a factory reset (1..9999)")
    variance.add_argument("--save-delay", type=float, default=0.0, metavar="S",
                          help="save.cgi saves at once but answers S seconds later")
    variance.add_argument("--reachable-discovery", dest="discovery_link_local", action="store_false",
                          help="auto discovery reports the PTZ's listen address, not a link-local 169.254.x.y")
    variance.add_argument("--auth-schemes", default="digest", metavar="digest,basic",
                          help="schemes a 401 challenges (one WWW-Authenticate each, in this order) and that are "
                               "accepted: digest, basic or both")
    variance.add_argument("--forbidden-status", type=int, choices=FORBIDDEN_STATUSES, default=401,
                          help="answer to right credentials with too low a role: 401 (a challenge) or 403")
    variance.add_argument("--no-error-space", dest="error_space", action="store_false",
                          help="text errors read Error:<message> (no space after the colon)")
    variance.add_argument("--no-param-prefix", dest="param_prefix", action="store_false",
                          help="param.cgi lists its lines without the root. prefix")
    variance.add_argument("--resolutions-per-channel", action="store_true",
                          help="Properties.Image.I<n>.Resolution per channel instead of Properties.Image.Resolution")
    variance.add_argument("--snapshot-size", default=None, metavar="WxH",
                          help="image.cgi answers pictures of this size whatever resolution was asked")
    variance.add_argument("--trickle-headers", type=float, default=0.0, metavar="S",
                          help="every VAPIX answer's header lines go out one at a time, S seconds apart")
    variance.add_argument("--tls-reset", type=int, default=0, metavar="N",
                          help="with --tls, reset the next N TLS handshakes of each unit (either endpoint)")
    variance.add_argument("--position-decimals", type=int, default=4, metavar="N",
                          help="decimals (0..6) of pan and tilt in the PTZ's query=position")
    world = parser.add_argument_group("the world", "what the cameras see (tests/emulator/README.md, The world)")
    world.add_argument("--depth-scale", type=float, default=1.0, metavar="F",
                       help="horizontal distances and sizes of everything around the mount times F (0.25..4)")
    world.add_argument("--noise", type=float, default=0.01, metavar="SIGMA",
                       help="sensor noise, linear standard deviation at full scale (0..0.2; the PTZ 1.5 times)")
    world.add_argument("--night", action="store_true", help="IR night pictures: grey, low contrast, less detail")
    world.add_argument("--guard-tour", type=float, default=0.0, metavar="S",
                       help="someone else moves the PTZ to its next tour stop every S seconds (0: never)")
    site = parser.add_argument_group("the site", "what a real site does to the pictures and the PTZ "
                                     "(tests/emulator/README.md, The site)")
    site.add_argument("--ptz-night", action="store_true",
                      help="the PTZ alone is in IR (grey, vegetation bright, sky dark, lamps lit and bloomed, "
                           "twice the noise); the heads stay in colour")
    site.add_argument("--dusk", action="store_true",
                      help="both cameras see a dark, noisy, low-contrast scene with lights on")
    site.add_argument("--clock", type=float, default=12.0, metavar="HOURS",
                      help="the time (0..24) the world shows, advancing with wall time; drives sway and traffic")
    site.add_argument("--sway", type=float, default=0.0, metavar="DEG",
                      help="the mast sways: both cameras turn together against the world by up to DEG (0..1)")
    site.add_argument("--sway-period", type=float, default=4.0, metavar="S",
                      help="seconds of one sway cycle (0.5..600)")
    site.add_argument("--traffic", action="store_true",
                      help="vehicles and people that move between pictures; parked vehicles change every hour")
    site.add_argument("--click-zoom", type=float, default=1.0, metavar="F",
                      help="a click through the Q6000-E ends with the PTZ's field of view divided by F (1..4)")
    site.add_argument("--integer-center", action="store_true",
                      help="center= and areazoom= take integers only, imagewidth/imageheight no larger than streamed")
    site.add_argument("--position-jitter", type=float, default=0.0, metavar="DEG",
                      help="query=position at rest is off by uniform noise of +-DEG (0..1)")
    site.add_argument("--areazoom-error", type=float, default=0.0, metavar="FRACTION",
                      help="the zoom an areazoom lands at is off by up to this fraction (0..0.3)")
    site.add_argument("--frame-latency", type=float, default=0.0, metavar="S",
                      help="a snapshot shows the scene as it was S seconds ago; only when S > 0, PTZ pictures "
                           "of the half second after a zoom change are blurred (autofocus)")
    site.add_argument("--head-lens", choices=HEAD_LENSES, default="radial",
                      help="the heads' lens family: radial (one-term barrel) or fisheye (equidistant)")
    ns = parser.parse_args(argv)
    try:
        loopback = ipaddress.ip_address(ns.listen).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        parser.error("--listen must be a loopback address (127.0.0.0/8 or ::1)")
    if ns.units < 1:
        parser.error("--units must be at least 1")
    if not 0 <= ns.base_port <= 65535 - 2 * ns.units:
        parser.error("--base-port leaves no room for the fleet")
    if ns.tls and not (ns.inventory or ns.state_dir):
        parser.error("--tls needs --inventory or --state-dir (where the CA certificate is written)")
    if ns.tls_reset and not ns.tls:
        parser.error("--tls-reset needs --tls")
    settings = Settings()
    lists = ("param_lacks", "auth_schemes")
    values = {name: getattr(ns, name) for name in vars(settings) if name not in lists}
    for name in lists:
        values[name] = [g.strip() for g in getattr(ns, name).split(",") if g.strip()]
    try:
        settings.update(values)
    except ValueError as exc:
        option, _sep, rest = str(exc).partition(" ")
        parser.error(f"--{option.rstrip(':').replace('_', '-')}: {rest}")
    logging.basicConfig(level=ns.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return Options(
        units=ns.units, listen=ns.listen, base_port=ns.base_port, inventory=ns.inventory,
        state_dir=ns.state_dir, tls=ns.tls, seed=ns.seed, settings=settings,
    )


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse(argv)))


if __name__ == "__main__":
    main()

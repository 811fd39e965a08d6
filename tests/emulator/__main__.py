"""`python -m tests.emulator`: run a fleet of twins until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys
from pathlib import Path

from .device import ERROR_ELEMENTS, Settings
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
    parser.add_argument("--tls", action="store_true", help="Q6000-E endpoints speak HTTPS")
    parser.add_argument("--seed", default="1", help="seeds the physical model and the passwords")
    parser.add_argument("--connect-delay", type=float, default=1.0,
                        help="seconds the link reports 1 (trying) after a change")
    parser.add_argument("--digest-algorithm", choices=("MD5", "SHA-256"), default="MD5")
    parser.add_argument("--nonce-lifetime", type=float, default=300.0, help="seconds a nonce stays fresh")
    parser.add_argument("--allow-basic", action="store_true", help="also accept HTTP Basic")
    parser.add_argument("--deprecated", action="store_true", help='XML answers carry Deprecated="true"')
    parser.add_argument("--error-element", choices=ERROR_ELEMENTS, default="Description")
    parser.add_argument("--ptz-speed", type=float, default=300.0,
                        help="PTZ pan/tilt speed in degrees per second (0: moves at once)")
    parser.add_argument("--log-level", default="WARNING", help="log level on stderr")
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
    for name in ("connect_delay", "nonce_lifetime", "ptz_speed"):
        if getattr(ns, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0")
    logging.basicConfig(level=ns.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return Options(
        units=ns.units, listen=ns.listen, base_port=ns.base_port, inventory=ns.inventory,
        state_dir=ns.state_dir, tls=ns.tls, seed=ns.seed,
        settings=Settings(deprecated=ns.deprecated, error_element=ns.error_element,
                          connect_delay=ns.connect_delay, allow_basic=ns.allow_basic,
                          nonce_lifetime=ns.nonce_lifetime, digest_algorithm=ns.digest_algorithm,
                          ptz_speed=ns.ptz_speed),
    )


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse(argv)))


if __name__ == "__main__":
    main()

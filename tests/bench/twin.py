"""The twin's section: fleet start time, the time to generate one unit's world, and requests per second the twin
serves on one core.

Throughput is measured with the twin pinned to one core and the clients, one process per keep-alive
connection doing Digest-authenticated getvapixstatus.cgi requests, pinned to the other; the twin's own
CPU use is reported too, to show the figure is the twin's limit and not the clients'.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import socket
import tempfile
import time

from tests.emulator.auth import parse_auth_params
from tests.emulator.process import Twin
from tests.emulator.scene import Scene

TITLE = "twin: device twin (python -m tests.emulator)"
RUNS = 3
WORLDS = 30  # units whose world is generated, one after the other
FLEET = 500
RPS_UNITS = 4
CONNECTIONS = 8
SECONDS = 3.0
PATH = "/axis-cgi/remotecameracontrol/getvapixstatus.cgi"


def fleet_start(workdir: str) -> float:
    twin = Twin(FLEET, workdir=os.path.join(workdir, "fleet"))
    try:
        twin.start()
        return twin.ready_seconds or 0.0
    finally:
        twin.stop()


class Client:
    """One keep-alive connection doing Digest-authenticated GETs, with as little client work as possible."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.user, self.password = user, password
        self.nc = 0
        status, headers, _body = self.get(None)
        assert status == 401
        params = parse_auth_params(headers["www-authenticate"][len("Digest "):])
        self.realm, self.nonce = params["realm"], params["nonce"]
        self.ha1 = hashlib.md5(f"{user}:{self.realm}:{password}".encode()).hexdigest()
        self.ha2 = hashlib.md5(f"GET:{PATH}".encode()).hexdigest()

    def authorization(self) -> str:
        self.nc += 1
        nc = f"{self.nc:08x}"
        response = hashlib.md5(f"{self.ha1}:{self.nonce}:{nc}:0a4f113b:auth:{self.ha2}".encode()).hexdigest()
        return (f'Digest username="{self.user}", realm="{self.realm}", nonce="{self.nonce}", uri="{PATH}", '
                f'response="{response}", qop=auth, nc={nc}, cnonce="0a4f113b"')

    def get(self, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
        head = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if authorization:
            head += f"Authorization: {authorization}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        raw, _sep, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _sep, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self.buffer += self._recv()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(lines[0].split()[1]), headers, body

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        return chunk

    def loop(self, deadline: float) -> int:
        done = 0
        while time.monotonic() < deadline:
            status, _headers, body = self.get(self.authorization())
            if status != 200 or b"GetStatusSuccess" not in body:
                raise AssertionError(f"unexpected answer {status}")
            done += 1
        return done


def _client_process(target: tuple[int, str, str], core: int | None, barrier, seconds: float, out) -> None:
    if core is not None:
        os.sched_setaffinity(0, {core})
    client = Client(*target)
    barrier.wait()
    out.put(client.loop(time.monotonic() + seconds))


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def throughput(twin: Twin) -> tuple[float, float]:
    """(requests per second, the twin's CPU use in % of one core) for one run.

    One process per connection: Python threads in one client process convoy on the GIL and would
    measure the client, not the twin.
    """
    cores = sorted(os.sched_getaffinity(0))
    twin_core, client_core = (cores[0], cores[1]) if len(cores) > 1 else (None, None)
    assert twin.pid is not None
    if twin_core is not None:
        os.sched_setaffinity(twin.pid, {twin_core})
    targets = [(hv["q6000_port"], "viewer", hv["q6000_viewer_password"]) for hv in twin.hosts.values()]
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(CONNECTIONS + 1), ctx.Queue()
    procs = [ctx.Process(target=_client_process,
                         args=(targets[i % len(targets)], client_core, barrier, SECONDS, out))
             for i in range(CONNECTIONS)]
    for proc in procs:
        proc.start()
    barrier.wait(timeout=60)
    cpu_before, started = _cpu_seconds(twin.pid), time.monotonic()
    counts = [out.get(timeout=SECONDS + 60) for _proc in procs]
    elapsed = time.monotonic() - started
    cpu = (_cpu_seconds(twin.pid) - cpu_before) / elapsed * 100.0
    for proc in procs:
        proc.join(30)
    return sum(counts) / elapsed, cpu


def world_seconds() -> list[float]:
    """Seconds to generate each of WORLDS units' worlds (a fleet's start generates one per unit)."""
    times = []
    for index in range(WORLDS):
        started = time.perf_counter()
        Scene.generate(1, index)
        times.append(time.perf_counter() - started)
    return times


def run() -> list[dict]:
    starts, rates, cpus = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-twin-") as workdir:
        for _run in range(RUNS):
            starts.append(fleet_start(workdir))
        with Twin(RPS_UNITS, workdir=os.path.join(workdir, "rps"), args=("--ptz-speed", "0")) as twin:
            for _run in range(RUNS):
                rps, cpu = throughput(twin)
                rates.append(rps)
                cpus.append(cpu)
    return [
        {"metric": f"{FLEET}-unit fleet: start to READY", "unit": "s", "runs": starts},
        {"metric": "one unit's world generated (Scene.generate)", "unit": "ms",
         "runs": [1000.0 * seconds for seconds in world_seconds()], "digits": 1},
        {"metric": f"getvapixstatus, Digest, keep-alive, {CONNECTIONS} connections, twin on one core",
         "unit": "requests/s", "runs": rates, "digits": 0},
        {"metric": "twin CPU during that run", "unit": "% of one core", "runs": cpus, "digits": 0},
    ]

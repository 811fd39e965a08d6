"""Run the twin as a subprocess: the one way tests, the demo and the benchmark start it.

Only the standard library (plus PyYAML, which the twin needs anyway to write its inventory), so
any suite can import it without pulling in an HTTP client.
"""

from __future__ import annotations

import json
import os
import select
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


class TwinError(RuntimeError):
    pass


class Twin:
    """A twin fleet in a child process, with its inventory and the control API at hand.

    Use as a context manager, or call start() and stop(). Calling start() again after stop()
    restarts the same fleet (same workdir, inventory and state dir).
    """

    def __init__(self, units: int = 1, *, workdir: str | os.PathLike, tls: bool = False,
                 state_dir: str | os.PathLike | None = None, args: tuple[str, ...] | list[str] = (),
                 python: str | None = None) -> None:
        self.units = units
        self.workdir = Path(workdir)
        self.tls = tls
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.args = tuple(str(a) for a in args)
        self.python = python or sys.executable
        self.inventory_path = self.workdir / "inventory.yml"
        self.log_path = self.workdir / "twin.log"
        self.hosts: dict[str, dict] = {}
        self.ready_seconds: float | None = None
        self.process: subprocess.Popen | None = None
        self._opener: urllib.request.OpenerDirector | None = None

    # -- process --------------------------------------------------------------------------

    def command(self) -> list[str]:
        cmd = [self.python, "-m", "tests.emulator", "--units", str(self.units),
               "--inventory", str(self.inventory_path)]
        if self.tls:
            cmd.append("--tls")
        if self.state_dir is not None:
            cmd += ["--state-dir", str(self.state_dir)]
        return cmd + list(self.args)

    def start(self, timeout: float | None = None) -> Twin:
        """Start the fleet and wait for its READY line (timeout grows with the fleet)."""
        if self.process is not None:
            raise TwinError("twin already started")
        self.workdir.mkdir(parents=True, exist_ok=True)
        timeout = timeout if timeout is not None else 20.0 + 0.1 * self.units
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command(), cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.PIPE, stderr=log)
        try:
            line = self._read_line(started + timeout)
            if not line.startswith("READY "):
                raise TwinError(f"unexpected first line from the twin: {line!r}")
            ready = json.loads(line[len("READY "):])
            if ready.get("units") != self.units:
                raise TwinError(f"twin reports {ready.get('units')} units, expected {self.units}")
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - started
        data = yaml.safe_load(self.inventory_path.read_text())
        self.hosts = data["all"]["children"]["q6000"]["hosts"]
        self._opener = None
        return self

    def _read_line(self, deadline: float) -> str:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        buffer = b""
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TwinError(f"twin not ready in time; see {self.log_path}")
            readable = select.select([fd], [], [], remaining)[0]
            if not readable:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                code = self.process.wait()
                raise TwinError(f"twin exited with {code} before READY: {self.log_text()[-2000:]}")
            buffer += chunk
        return buffer.split(b"\n", 1)[0].decode()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait, and SIGKILL only if it does not stop; returns the exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode

    def restart(self) -> Twin:
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> Twin:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- the fleet ------------------------------------------------------------------------

    @property
    def ca_path(self) -> str | None:
        first = next(iter(self.hosts.values()), {})
        return first.get("q6000_ca_path")

    def host(self, index: int = 0) -> str:
        """Name of the unit at a 0-based index."""
        return list(self.hosts)[index]

    def base_url(self, host: str) -> str:
        hv = self.hosts[host]
        address = hv["ansible_host"]
        address = f"[{address}]" if ":" in address else address
        return f"{'https' if hv['q6000_use_https'] else 'http'}://{address}:{hv['q6000_port']}"

    def ptz_url(self, host: str) -> str:
        """Where a client reaches the PTZ itself (its site address, https with --tls)."""
        hv = self.hosts[host]
        address = hv.get("q6000_ptz_hostname", hv["q6000_remote_host"])
        address = f"[{address}]" if ":" in address else address
        scheme = "https" if hv.get("q6000_ptz_use_https", False) else "http"
        return f"{scheme}://{address}:{hv.get('q6000_ptz_port', hv['q6000_remote_http_port'])}"

    # -- control API ----------------------------------------------------------------------

    def _open(self) -> urllib.request.OpenerDirector:
        if self._opener is None:
            handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
            if self.ca_path:
                handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=self.ca_path)))
            self._opener = urllib.request.build_opener(*handlers)
        return self._opener

    def control(self, host: str, method: str, path: str, payload: dict | None = None) -> dict:
        """One request to the JSON control API of that unit (path like "/state" or "truth?...")."""
        url = self.hosts[host]["q6000_twin_control"] + "/" + path.lstrip("/")
        data = json.dumps(payload).encode() if payload is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with self._open().open(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise TwinError(f"{method} {url}: {exc.code} {exc.read().decode(errors='replace')}") from None

    def _targets(self, host: str | None) -> list[str]:
        return list(self.hosts) if host is None else [host]

    def counters(self, host: str | None = None) -> dict:
        """Counters of one unit, or summed over the fleet when host is None."""
        if host is not None:
            return self.control(host, "GET", "/counters")
        total: dict = {"cgi": {}, "unauthorized": 0, "connections": 0}
        for name in self.hosts:
            one = self.control(name, "GET", "/counters")
            for path, count in one["cgi"].items():
                total["cgi"][path] = total["cgi"].get(path, 0) + count
            total["unauthorized"] += one["unauthorized"]
            total["connections"] += one["connections"]
        return total

    def reset(self, host: str | None = None) -> None:
        """Zero the counters and disarm the faults (of one unit or the fleet)."""
        for name in self._targets(host):
            self.control(name, "POST", "/reset")

    def factory_reset(self, host: str | None = None) -> None:
        """Back to factory state: no calibration or session, factory link, mount unknocked."""
        for name in self._targets(host):
            self.control(name, "POST", "/factory_reset")

    def fault(self, host: str, cgi: str, kind: str, count: int = 1, seconds: float | None = None) -> dict:
        payload: dict = {"cgi": cgi, "kind": kind, "count": count}
        if seconds is not None:
            payload["seconds"] = seconds
        return self.control(host, "POST", "/fault", payload)

    def knock(self, host: str, degrees: float | None = None, *, yaw: float | None = None,
              pitch: float | None = None, roll: float | None = None) -> dict:
        """Knock the Q6000-E against the PTZ (degrees: another name for yaw); only the axes given are sent."""
        fields = {"degrees": degrees, "yaw": yaw, "pitch": pitch, "roll": roll}
        return self.control(host, "POST", "/knock", {k: v for k, v in fields.items() if v is not None})

    def settings(self, host: str | None = None, **values) -> dict:
        """Change settings of one unit (returns them) or of every unit (returns host -> settings)."""
        if host is not None:
            return self.control(host, "POST", "/settings", values)
        return {name: self.control(name, "POST", "/settings", values) for name in self.hosts}

    def state(self, host: str) -> dict:
        return self.control(host, "GET", "/state")

    def operator(self, host: str, after: float | None, pan: float, tilt: float, zoom: int, *,
                 after_pictures: int | None = None) -> dict:
        """A person sends that unit's PTZ to (pan, tilt, zoom) `after` seconds from now (or, with after None, as
        the PTZ serves its `after_pictures`-th picture) and leaves it there (replaces a pending one); answers as
        operator_state."""
        when = {"after": after} if after is not None else {"after_pictures": after_pictures}
        return self.control(host, "POST", "/operator", {**when, "pan": pan, "tilt": tilt, "zoom": zoom})

    def operator_state(self, host: str) -> dict:
        """{"pending", "happened", "ptz" (the person's pan/tilt/zoom, or None), "commands_after"}."""
        return self.control(host, "GET", "/operator")

    def truth(self, host: str, camera: int, x: float, y: float) -> tuple[float, float]:
        """The PTZ pan/tilt that centres what normalized pixel (x, y) of a head sees (parallax included)."""
        answer = self._truth(host, camera, x, y)
        return answer["pan"], answer["tilt"]

    def ray(self, host: str, camera: int, x: float, y: float) -> tuple[float, float]:
        """The direction of that pixel's ray: the truth of a point infinitely far (no parallax), what the
        Q6000-E's direction-only calibration models."""
        answer = self._truth(host, camera, x, y)
        return answer["ray_pan"], answer["ray_tilt"]

    def _truth(self, host: str, camera: int, x: float, y: float) -> dict:
        query = urllib.parse.urlencode({"camera": camera, "x": repr(float(x)), "y": repr(float(y))})
        return self.control(host, "GET", f"/truth?{query}")

    def truths(self, host: str, camera: int, pixels) -> list[dict]:
        """The truth of many pixels at once: dicts with x, y, pan, tilt and depth (None for the sky)."""
        payload = {"camera": camera, "pixels": [[float(x), float(y)] for x, y in pixels]}
        answer = self.control(host, "POST", "/truth", payload)
        return answer["points"]

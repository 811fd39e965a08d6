"""The twin as a process: READY, signals, options, inventory, durable state, TLS, a 500-unit fleet."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest
import requests
import yaml
from requests.auth import HTTPDigestAuth

from tests.emulator.process import REPO_ROOT, Twin
from tests.twin.helpers import (CAL, LINK_LOCAL, PARAM, PTZ, REMOTE, TEST_ARGS, SITE_DEFAULTS, VARIANCE_DEFAULTS, WORLD_DEFAULTS,
                                Device, calibrate, start_twin, stop_twin)

HOST_VARS = ["ansible_host", "q6000_port", "q6000_use_https", "q6000_validate_certs", "q6000_ca_path",
             "q6000_username", "q6000_password", "q6000_operator_username", "q6000_operator_password",
             "q6000_viewer_username", "q6000_viewer_password", "q6000_remote_host", "q6000_remote_http_port",
             "q6000_remote_username", "q6000_remote_password", "q6000_ptz_hostname", "q6000_ptz_port",
             "q6000_ptz_use_https", "q6000_twin_control"]


def free_base_port(count: int) -> int:
    """A run of free ports (checked by binding each), for tests of --base-port."""
    for _attempt in range(50):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
        probe.close()
        if base + count > 65000:
            continue
        try:
            socks = []
            for port in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


def test_ready_line_and_sigint(tmp_path):
    inventory = tmp_path / "inv.yml"
    process = subprocess.Popen([sys.executable, "-m", "tests.emulator", "--units", "2", "--inventory", str(inventory)],
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line == f'READY {json.dumps({"units": 2, "inventory": str(inventory.resolve())})}\n'
        assert inventory.exists()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
    assert process.stdout.read() == ""
    assert "Traceback" not in process.stderr.read()


def test_ready_without_inventory():
    process = subprocess.Popen([sys.executable, "-m", "tests.emulator"], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout.readline() == 'READY {"units": 1, "inventory": null}\n'
    finally:
        process.terminate()
        assert process.wait(20) == 0


def test_inventory_matches_the_readme(tmp_path_factory):
    twin = start_twin(tmp_path_factory, units=3)
    try:
        data = yaml.safe_load(twin.inventory_path.read_text())
        group = data["all"]["children"]["q6000"]
        assert group["vars"] == {"ansible_connection": "local",
                                 "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
        assert list(group["hosts"]) == ["q6000-001", "q6000-002", "q6000-003"]
        ports = set()
        for name, hv in group["hosts"].items():
            assert list(hv) == HOST_VARS
            assert hv["ansible_host"] == hv["q6000_remote_host"] == hv["q6000_ptz_hostname"] == "127.0.0.1"
            assert hv["q6000_ptz_port"] == hv["q6000_remote_http_port"]
            assert hv["q6000_ptz_use_https"] is False
            assert twin.ptz_url(name) == f"http://127.0.0.1:{hv['q6000_ptz_port']}"
            assert (hv["q6000_use_https"], hv["q6000_validate_certs"], hv["q6000_ca_path"]) == (False, True, None)
            assert (hv["q6000_username"], hv["q6000_operator_username"], hv["q6000_viewer_username"],
                    hv["q6000_remote_username"]) == ("root", "operator", "viewer", "root")
            assert hv["q6000_twin_control"] == f"http://127.0.0.1:{hv['q6000_port']}/emulator"
            ports |= {hv["q6000_port"], hv["q6000_remote_http_port"]}
        assert len(ports) == 6
        assert len({hv["q6000_password"] for hv in group["hosts"].values()}) == 3
    finally:
        stop_twin(twin)


def test_same_seed_same_passwords_other_seed_others(tmp_path_factory):
    first = start_twin(tmp_path_factory, args=(*TEST_ARGS, "--seed", "42"))
    second = start_twin(tmp_path_factory, args=(*TEST_ARGS, "--seed", "42"))
    third = start_twin(tmp_path_factory, args=(*TEST_ARGS, "--seed", "43"))
    try:
        keys = ("q6000_password", "q6000_remote_password")
        one, two, three = (t.hosts["q6000-001"] for t in (first, second, third))
        assert [one[k] for k in keys] == [two[k] for k in keys]
        assert all(one[k] != three[k] for k in keys)
        assert first.truth("q6000-001", 1, 0, 0) == second.truth("q6000-001", 1, 0, 0)
        assert first.truth("q6000-001", 1, 0, 0) != third.truth("q6000-001", 1, 0, 0)
    finally:
        for t in (first, second, third):
            stop_twin(t)


def test_base_port(tmp_path_factory):
    base = free_base_port(4)
    twin = start_twin(tmp_path_factory, units=2, args=(*TEST_ARGS, "--base-port", str(base)))
    try:
        ports = [(hv["q6000_port"], hv["q6000_remote_http_port"]) for hv in twin.hosts.values()]
        assert ports == [(base, base + 1), (base + 2, base + 3)]
    finally:
        stop_twin(twin)


def test_options_set_the_settings(tmp_path_factory):
    twin = start_twin(tmp_path_factory, args=(
        "--connect-delay", "0.5", "--digest-algorithm", "SHA-256", "--nonce-lifetime", "60", "--allow-basic",
        "--deprecated", "--error-element", "ErrorDescription", "--ptz-speed", "90"))
    try:
        host = twin.host()
        assert twin.control(host, "GET", "/settings") == {
            "deprecated": True, "error_element": "ErrorDescription", "connect_delay": 0.5, "allow_basic": True,
            "nonce_lifetime": 60.0, "digest_algorithm": "SHA-256", "ptz_speed": 90.0, **VARIANCE_DEFAULTS,
            **WORLD_DEFAULTS, **SITE_DEFAULTS}
        device = Device(twin, host)
        response = device.call(REMOTE + "getvapixstatus.cgi", account=None)
        assert 'algorithm=SHA-256' in response.headers["WWW-Authenticate"]
        text = device.call(REMOTE + "getvapixparams.cgi", {"schemaversion": "2"}).text
        assert 'Deprecated="true"' in text and "<ErrorDescription>" in text
        response = requests.get(device.url(REMOTE + "getvapixstatus.cgi"),
                                auth=(device.vars["q6000_viewer_username"], device.vars["q6000_viewer_password"]))
        assert response.status_code == 200
    finally:
        stop_twin(twin)


def test_bad_options_exit_with_usage(tmp_path):
    for args in (["--units", "0"], ["--tls"], ["--error-element", "Text"], ["--connect-delay", "-1"],
                 ["--listen", "0.0.0.0"], ["--listen", "example.org"]):
        result = subprocess.run([sys.executable, "-m", "tests.emulator", *args], cwd=REPO_ROOT,
                                capture_output=True, text=True, timeout=30, check=False)
        assert result.returncode == 2, args
        assert result.stdout == ""


def test_listen_ipv6(tmp_path_factory):
    twin = start_twin(tmp_path_factory, args=(*TEST_ARGS, "--listen", "::1"))
    try:
        hv = twin.hosts[twin.host()]
        assert hv["ansible_host"] == "::1"
        assert hv["q6000_twin_control"].startswith("http://[::1]:")
        device = Device(twin)
        assert device.success(REMOTE + "getremoteurl.cgi") == f"http://{LINK_LOCAL}:{hv['q6000_remote_http_port']}/"
        twin.settings(twin.host(), discovery_link_local=False)
        assert device.success(REMOTE + "getremoteurl.cgi") == f"http://127.0.0.1:{hv['q6000_remote_http_port']}/"
        device.connect()
        device.success(REMOTE + "setvapixparams.cgi", {"discoverymode": "manual", "host": "::1"})
        time.sleep(0.35)
        assert device.status() == 0
        assert twin.state(twin.host())["status"] == 0
    finally:
        stop_twin(twin)


def test_state_survives_a_restart(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("state")
    twin = start_twin(tmp_path_factory, units=2, state_dir=state_dir)
    try:
        host = twin.host(1)
        device = Device(twin, host)
        assert calibrate(device, 2) is None
        device.success(REMOTE + "setvapixparams.cgi", {
            "discoverymode": "manual", "host": "localhost", "password": device.password("ptz"), "rtspport": "8554"})
        twin.knock(host, 5.0)
        mount = twin.state(host)["mount_offset"]
        device.success(CAL + "start.cgi", {"camera": "1"})
        time.sleep(0.35)
        assert device.call(PTZ, {"camera": "2", "center": "700,300"}).status_code == 204
        landed = device.position()
        ports = dict(twin.hosts[host])
        saved = json.loads((state_dir / "unit-002.json").read_text())
        assert saved["link"]["password"] == device.password("ptz")
        assert set(saved["calibrations"]) == {"2"}
        assert "session" not in saved
        twin.restart()
        assert twin.hosts[host]["q6000_port"] == ports["q6000_port"]
        assert twin.hosts[host]["q6000_remote_http_port"] == ports["q6000_remote_http_port"]
        device = Device(twin, host)
        state = twin.state(host)
        assert state["session"] is None
        assert state["calibrated"] == {"1": False, "2": True, "3": False, "4": False}
        assert state["mount_offset"] == mount
        assert state["link"]["password_set"] is True
        params = device.success(REMOTE + "getvapixparams.cgi")
        assert params["BaseConnectionParams"]["Host"] == "localhost"
        assert params["VapixConnectionParams"]["RTSPPort"] == "8554"
        assert device.status() == 0
        assert device.error(CAL + "getinformation.cgi") == 54
        assert device.call(PTZ, {"camera": "2", "center": "700,300"}).status_code == 204
        assert device.position() == landed
        assert twin.state(twin.host(0))["calibrated"]["2"] is False
    finally:
        stop_twin(twin)


def test_state_of_another_seed_is_ignored(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("state")
    twin = start_twin(tmp_path_factory, state_dir=state_dir)
    try:
        assert calibrate(Device(twin), 1) is None
    finally:
        stop_twin(twin)
    other = start_twin(tmp_path_factory, state_dir=state_dir, args=(*TEST_ARGS, "--seed", "9"))
    try:
        assert other.state(other.host())["calibrated"]["1"] is False
    finally:
        stop_twin(other)


def test_tls(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("state")
    twin = start_twin(tmp_path_factory, tls=True, state_dir=state_dir)
    try:
        hv = twin.hosts[twin.host()]
        assert hv["q6000_use_https"] is True
        assert hv["q6000_ca_path"] == str(twin.inventory_path.resolve()) + ".ca.pem"
        assert hv["q6000_twin_control"].startswith("https://127.0.0.1:")
        ca_pem = open(hv["q6000_ca_path"]).read()
        assert "BEGIN CERTIFICATE" in ca_pem
        url = f"https://127.0.0.1:{hv['q6000_port']}{REMOTE}getvapixstatus.cgi"
        auth = HTTPDigestAuth("viewer", hv["q6000_viewer_password"])
        assert requests.get(url, auth=auth, verify=hv["q6000_ca_path"]).status_code == 200
        assert requests.get(url.replace("127.0.0.1", "localhost"), auth=auth,
                            verify=hv["q6000_ca_path"]).status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url, auth=auth)
        result = subprocess.run(["curl", "-s", "--digest", "-u", f"viewer:{hv['q6000_viewer_password']}", url],
                                capture_output=True, timeout=30, check=False)
        assert result.returncode == 60
        result = subprocess.run(["curl", "-s", "--cacert", hv["q6000_ca_path"], "--digest", "-u",
                                 f"viewer:{hv['q6000_viewer_password']}", url], capture_output=True, text=True,
                                timeout=30, check=False)
        assert result.returncode == 0 and "<GetStatusSuccess>" in result.stdout
        assert hv["q6000_ptz_use_https"] is True
        assert twin.ptz_url(twin.host()) == f"https://127.0.0.1:{hv['q6000_ptz_port']}"
        ptz = f"https://127.0.0.1:{hv['q6000_ptz_port']}{PARAM}?action=list&group=Properties.API"
        assert requests.get(ptz, verify=hv["q6000_ca_path"]).text == "root.Properties.API.HTTP.Version=3\n"
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(ptz)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(ptz.replace("https://", "http://"), timeout=5)
        device = Device(twin)
        assert device.position() == (0.0, 0.0, 1)
        url_of_ptz = device.success(REMOTE + "getremoteurl.cgi")
        assert url_of_ptz == f"https://{LINK_LOCAL}:{hv['q6000_ptz_port']}/"
        twin.settings(twin.host(), discovery_link_local=False)
        assert device.success(REMOTE + "getremoteurl.cgi") == twin.ptz_url(twin.host()) + "/"
        assert twin.state(twin.host())["session"] is None
        twin.restart()
        assert open(twin.hosts[twin.host()]["q6000_ca_path"]).read() == ca_pem
        assert requests.get(url.replace(str(hv["q6000_port"]), str(twin.hosts[twin.host()]["q6000_port"])),
                            auth=auth, verify=hv["q6000_ca_path"]).status_code == 200
    finally:
        stop_twin(twin)


def test_tls_without_state_dir(tmp_path):
    with Twin(1, workdir=tmp_path, tls=True, args=TEST_ARGS) as twin:
        hv = twin.hosts[twin.host()]
        context = ssl.create_default_context(cafile=hv["q6000_ca_path"])
        for name in ("localhost", "127.0.0.1", "::1"):
            with socket.create_connection(("127.0.0.1", hv["q6000_port"])) as raw:
                with context.wrap_socket(raw, server_hostname=name) as tls:
                    assert tls.version() in ("TLSv1.2", "TLSv1.3")
        with socket.create_connection(("127.0.0.1", hv["q6000_port"])) as raw:
            with pytest.raises(ssl.SSLCertVerificationError):
                context.wrap_socket(raw, server_hostname="camera.example")
        assert twin.state(twin.host())["status"] == 3
    assert "Traceback" not in twin.log_text()


def test_fleet_of_500(tmp_path_factory):
    twin = start_twin(tmp_path_factory, units=500)
    try:
        assert twin.ready_seconds < 30
        assert len(twin.hosts) == 500
        assert twin.host(0) == "q6000-001" and twin.host(499) == "q6000-500"
        session = requests.Session()
        for index in range(0, 500, 25):
            host = twin.host(index)
            hv = twin.hosts[host]
            auth = HTTPDigestAuth("viewer", hv["q6000_viewer_password"])
            response = session.get(twin.base_url(host) + REMOTE + "getvapixstatus.cgi", auth=auth)
            assert response.status_code == 200 and "<StatusCode>3</StatusCode>" in response.text
            response = session.get(twin.ptz_url(host) + PTZ, params={"query": "limits"},
                                   auth=HTTPDigestAuth("root", hv["q6000_remote_password"]))
            assert response.status_code == 200 and "MaxZoom=9999" in response.text
        counters = twin.counters()
        assert counters["cgi"] == {REMOTE + "getvapixstatus.cgi": 20, "ptz:" + PTZ: 20}
        assert counters["unauthorized"] == 40
        assert len({hv["q6000_remote_password"] for hv in twin.hosts.values()}) == 500
    finally:
        stop_twin(twin)


def test_twin_helper_fleet_calls(tmp_path_factory):
    twin = start_twin(tmp_path_factory, units=2)
    try:
        everyone = twin.settings(deprecated=True)
        assert set(everyone) == {"q6000-001", "q6000-002"}
        assert all(s["deprecated"] for s in everyone.values())
        for host in twin.hosts:
            Device(twin, host).call(REMOTE + "getvapixstatus.cgi")
        assert twin.counters()["cgi"] == {REMOTE + "getvapixstatus.cgi": 2}
        twin.reset()
        assert twin.counters() == {"cgi": {}, "unauthorized": 0, "connections": 0}
        assert twin.running and twin.pid
        assert twin.stop() == 0
        assert not twin.running
    finally:
        stop_twin(twin)

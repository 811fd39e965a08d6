"""The Ansible inventory of the fleet: how the collection's tests and users find each unit.

`q6000_remote_*` is what the Q6000-E's link to its PTZ is configured with; `q6000_ptz_*` is where a
client reaches the PTZ itself (its site address: the Q6000-E may report a link-local one).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .device import Unit
from .state import write_atomic


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def host_vars(unit: Unit, *, tls: bool, ca_path: Path | None) -> dict:
    scheme = "https" if tls else "http"
    return {
        "ansible_host": unit.listen,
        "q6000_port": unit.q6000.port,
        "q6000_use_https": tls,
        "q6000_validate_certs": True,
        "q6000_ca_path": str(ca_path) if tls and ca_path else None,
        "q6000_username": "root",
        "q6000_password": unit.passwords["root"],
        "q6000_operator_username": "operator",
        "q6000_operator_password": unit.passwords["operator"],
        "q6000_viewer_username": "viewer",
        "q6000_viewer_password": unit.passwords["viewer"],
        "q6000_remote_host": unit.listen,
        "q6000_remote_http_port": unit.ptz.port,
        "q6000_remote_username": "root",
        "q6000_remote_password": unit.passwords["ptz"],
        "q6000_ptz_hostname": unit.listen,
        "q6000_ptz_port": unit.ptz.port,
        "q6000_ptz_use_https": tls,
        "q6000_twin_control": f"{scheme}://{_url_host(unit.listen)}:{unit.q6000.port}/emulator",
    }


def build(units: list[Unit], *, tls: bool, ca_path: Path | None) -> dict:
    return {"all": {"children": {"q6000": {
        "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        },
        "hosts": {u.name: host_vars(u, tls=tls, ca_path=ca_path) for u in units},
    }}}}


def write(path: Path, units: list[Unit], *, tls: bool, ca_path: Path | None) -> None:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(build(units, tls=tls, ca_path=ca_path), Dumper=dumper, sort_keys=False,
                     default_flow_style=False, width=1000)
    write_atomic(path, text.encode(), mode=0o600)

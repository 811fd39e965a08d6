"""What the release tests share: where things are, and how to run Ansible on one collections path."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"


def ansible_env(collections_path: pathlib.Path) -> dict[str, str]:
    """Environment in which Ansible sees only the collections under collections_path."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    """Run a command of this venv, capturing text; the caller checks the outcome."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 300)
    return subprocess.run([str(arg) for arg in args], check=False, **kwargs)


def collection_playbook(collection_dir: pathlib.Path, name: str) -> pathlib.Path:
    """Where a collection keeps the playbook `<namespace>.<name>.<name>` resolves to."""
    return collection_dir / "playbooks" / f"{name}.yml"


def inventory_hosts(inventory_path) -> dict[str, dict]:
    """Every host of a YAML inventory with its variables, group variables first."""
    hosts: dict[str, dict] = {}

    def walk(group: dict, inherited: dict) -> None:
        variables = {**inherited, **(group.get("vars") or {})}
        for name, own in (group.get("hosts") or {}).items():
            hosts[name] = {**variables, **(own or {})}
        for child in (group.get("children") or {}).values():
            walk(child or {}, variables)

    walk(yaml.safe_load(pathlib.Path(inventory_path).read_text())["all"], {})
    return hosts


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """Counters of the PLAY RECAP per host."""
    lines = stdout.split("PLAY RECAP", 1)[-1].splitlines()
    result = {}
    for line in lines:
        match = re.match(r"^(\S+)\s+:\s+(.*)$", line)
        if match:
            result[match.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))}
    return result

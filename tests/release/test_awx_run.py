"""An AWX-style job: ansible-runner (what AWX runs jobs with) on a private data dir.

The private data dir holds what AWX lays out for a job: the project (a playbook importing the installed
collection's playbooks/site.yml), the inventory (the twin's), and env/envvars pointing Ansible at the
installed collection. The job's events are what AWX stores and shows: none may carry a device password.
"""

from __future__ import annotations

import json
import os
import pathlib

import ansible_runner
import yaml

from tests.emulator.process import Twin
from tests.release.helpers import BIN, FQCN, collection_playbook, inventory_hosts

SECRET_VARIABLES = ("q6000_password", "q6000_remote_password")


def private_data_dir(root: pathlib.Path, playbook: str, inventory: pathlib.Path, collections: pathlib.Path) -> None:
    (root / "project").mkdir(parents=True)
    (root / "project/site.yml").write_text(yaml.safe_dump([{"ansible.builtin.import_playbook": playbook}]))
    (root / "inventory").mkdir()
    (root / "inventory/hosts.yml").write_text(inventory.read_text())
    (root / "env").mkdir()
    (root / "env/envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }))


def test_awx_style_run_reports_events_without_passwords(installed, installed_dir, tmp_path):
    assert collection_playbook(installed_dir, "site").is_file()
    # Over HTTPS, as a site runs (the PTZ's password is refused over plain HTTP): the twin's CA is in the inventory.
    with Twin(2, workdir=tmp_path / "twin", tls=True) as twin:
        hosts = inventory_hosts(twin.inventory_path)
        data = tmp_path / "job"
        private_data_dir(data, f"{FQCN}.site", pathlib.Path(twin.inventory_path), installed)
        # -vvv: masking must hold at the verbosity people debug with.
        job = ansible_runner.run(private_data_dir=str(data), playbook="site.yml", verbosity=3, quiet=True,
                                 timeout=600)
        events = list(job.events)

    stdout = job.stdout.read()
    assert (job.status, job.rc) == ("successful", 0), stdout
    ok_hosts = {event["event_data"].get("host") for event in events if event["event"] == "runner_on_ok"}
    assert set(hosts) <= ok_hosts, ok_hosts
    assert not [event for event in events if event["event"] in ("runner_on_failed", "runner_on_unreachable")]
    assert any(event["event"] == "playbook_on_stats" for event in events)

    secrets = [(name, str(variables[name])) for variables in hosts.values() for name in SECRET_VARIABLES
               if variables.get(name)]
    assert secrets, "the twin's inventory has no passwords to look for"
    artifacts = "\n".join(path.read_text(errors="replace") for path in (data / "artifacts").rglob("*")
                          if path.is_file())
    texts = {"job events": json.dumps(events), "job stdout": stdout, "artifacts": artifacts}
    leaks = sorted({(where, name) for where, text in texts.items() for name, value in secrets if value in text})
    assert not leaks, f"password values found in: {leaks}"

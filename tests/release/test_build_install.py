"""The collection as users get it: built into a tarball, installed, and run from the installed copy."""

from __future__ import annotations

import json
import pathlib
import subprocess
import tarfile

import yaml

from tests.emulator.process import Twin
from tests.release.helpers import (BIN, FQCN, GALAXY, ROOT, ansible_env, collection_playbook, inventory_hosts,
                                   recap, run)

# What must never ship: VCS data, environments, caches, build and test output.
FORBIDDEN_PARTS = {".git", ".venv", "venv", ".tox", "__pycache__", ".pytest_cache", ".cache", ".ansible",
                   ".twin", "dist"}
FORBIDDEN_SUFFIXES = (".pyc", ".pyo", ".tar.gz", ".whl")


def forbidden(name: str) -> bool:
    path = pathlib.PurePosixPath(name)
    return (bool(FORBIDDEN_PARTS.intersection(path.parts)) or name.endswith(FORBIDDEN_SUFFIXES)
            or path.name in ("pyvenv.cfg", ".plugin-cache.yaml") or name.startswith("tests/output"))


def test_tarball_holds_no_caches_environments_or_output(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "MANIFEST.json" in names and "FILES.json" in names
    assert [name for name in names if forbidden(name)] == []


def test_tarball_holds_the_readme_galaxy_yml_names(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert GALAXY["readme"] in names, f"galaxy.yml names {GALAXY['readme']} as the readme; Galaxy refuses it missing"


def test_tarball_holds_every_tracked_file_of_the_content(tarball):
    tracked = subprocess.run(
        ["git", "ls-files", "--", "plugins", "roles", "playbooks", "meta", "changelogs", "README.md",
         "requirements.txt", "bindep.txt"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    assert sorted(set(tracked) - names) == []


def test_ansible_doc_reads_the_installed_copy(installed, installed_dir):
    runtime = yaml.safe_load((installed_dir / "meta/runtime.yml").read_text())
    for module in runtime["action_groups"]["vapix"]:
        result = run([BIN / "ansible-doc", "--json", f"{FQCN}.{module}"], env=ansible_env(installed))
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout)[f"{FQCN}.{module}"]["doc"]
        assert pathlib.Path(doc["filename"]).is_relative_to(installed_dir), doc["filename"]


def test_facts_playbook_runs_from_the_installed_copy_against_the_twin(installed, installed_dir, tmp_path):
    assert collection_playbook(installed_dir, "facts").is_file()
    with Twin(2, workdir=tmp_path / "twin") as twin:
        # `<collection>.facts` is the installed playbooks/facts.yml. Run from an empty folder, so that no
        # ansible.cfg, adjacent collections or roles of the source tree apply.
        result = run([BIN / "ansible-playbook", "-i", twin.inventory_path, f"{FQCN}.facts"],
                     env=ansible_env(installed), cwd=tmp_path)
        hosts = inventory_hosts(twin.inventory_path)

    assert result.returncode == 0, result.stdout + result.stderr
    counters = recap(result.stdout)
    for host in hosts:
        assert counters[host]["ok"] > 0, counters
        assert counters[host]["failed"] == counters[host]["unreachable"] == 0, counters

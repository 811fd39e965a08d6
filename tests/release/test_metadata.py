"""The collection's metadata agrees with its content and with the versions `make test` runs."""

from __future__ import annotations

import json
import re

import ansible.release
import pytest
import yaml
from packaging.specifiers import SpecifierSet

from tests.release.helpers import BIN, FQCN, ROOT, ansible_env, run

RUNTIME = yaml.safe_load((ROOT / "meta/runtime.yml").read_text())
GROUP = RUNTIME["action_groups"]["vapix"]
MODULES = sorted(path.stem for path in (ROOT / "plugins/modules").glob("*.py") if path.stem != "__init__")
SOURCE_COLLECTIONS = ROOT / ".venv/collections"


def test_every_module_is_in_the_action_group():
    assert sorted(set(MODULES) - set(GROUP)) == []


@pytest.mark.parametrize("module", GROUP)
def test_ansible_doc_renders_each_module_of_the_action_group(module):
    env = ansible_env(SOURCE_COLLECTIONS)
    assert (ROOT / "plugins/modules" / f"{module}.py").exists(), f"{module} is in the action group but has no module file"

    as_json = run([BIN / "ansible-doc", "--json", f"{FQCN}.{module}"], env=env)
    assert as_json.returncode == 0, as_json.stderr
    doc = json.loads(as_json.stdout)[f"{FQCN}.{module}"]
    assert doc["doc"]["short_description"] and doc["examples"] and doc["return"]

    as_text = run([BIN / "ansible-doc", f"{FQCN}.{module}"], env=env)
    assert as_text.returncode == 0, as_text.stderr
    assert "[WARNING]" not in as_text.stderr, as_text.stderr
    assert f"{FQCN}.{module}" in as_text.stdout


def test_running_ansible_core_meets_requires_ansible():
    assert ansible.release.__version__ in SpecifierSet(RUNTIME["requires_ansible"])


def test_requires_ansible_admits_every_ansible_core_the_matrix_pins():
    pins = re.findall(r"^ansible-core==(\S+)", (ROOT / "requirements-dev.txt").read_text(), re.MULTILINE)
    assert len(pins) >= 2
    assert [pin for pin in pins if pin not in SpecifierSet(RUNTIME["requires_ansible"])] == []

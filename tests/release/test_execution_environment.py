"""The execution environment definition gives ansible-builder a complete build context.

No image is built: this machine has no container engine. The galaxy and introspection steps of the
build are replayed here on the context instead.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import sys

import yaml

from tests.release.helpers import BIN, ROOT, ansible_env, run

DEFINITION = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
DEV_PINS = (ROOT / "requirements-dev.txt").read_text()


def test_definition_installs_the_tarball_galaxy_yml_builds(tarball):
    (build_file,) = DEFINITION["additional_build_files"]
    (collection,) = DEFINITION["dependencies"]["galaxy"]["collections"]
    assert pathlib.PurePosixPath(build_file["src"]).name == tarball.name
    assert collection == {"name": f"{build_file['dest']}/{tarball.name}", "type": "file"}


def test_definition_pins_what_the_matrix_tests():
    core = DEFINITION["dependencies"]["ansible_core"]["package_pip"]
    runner = DEFINITION["dependencies"]["ansible_runner"]["package_pip"]
    assert re.search(rf"^{re.escape(core)} ; python_version >= \"3.12\"$", DEV_PINS, re.MULTILINE), core
    assert re.search(rf"^{re.escape(runner)}$", DEV_PINS, re.MULTILINE), runner
    assert DEFINITION["dependencies"]["python_interpreter"]["package_system"] == "python3.12"


def test_builder_context_installs_the_collection_and_its_dependencies(tarball, tmp_path):
    (build_file,) = DEFINITION["additional_build_files"]
    shutil.copy(ROOT / "execution-environment.yml", tmp_path)
    (tmp_path / build_file["src"]).parent.mkdir(parents=True)
    shutil.copy(tarball, tmp_path / build_file["src"])

    context = tmp_path / "context"
    created = run([BIN / "ansible-builder", "create", "--file", tmp_path / "execution-environment.yml",
                   "--context", context, "--output-filename", "Containerfile"])
    assert created.returncode == 0, created.stdout + created.stderr

    containerfile = (context / "Containerfile").read_text()
    assert f'ARG EE_BASE_IMAGE="{DEFINITION["images"]["base_image"]["name"]}"' in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile
    build = context / "_build"
    assert (build / build_file["dest"] / tarball.name).is_file()

    # The galaxy stage: `ansible-galaxy collection install -r requirements.yml` in /build (= _build).
    collections = tmp_path / "usr/share/ansible/collections"
    installed = run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-r", "requirements.yml",
                     "--collections-path", collections], cwd=build, env=ansible_env(collections))
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # The builder stage: what introspection finds is what the image gets from pip and the package manager.
    found = run([sys.executable, build / "scripts/introspect.py", "introspect", collections])
    assert found.returncode == 0, found.stderr
    needs = yaml.safe_load(found.stdout)
    python = {re.split(r"[<>=!~ ;#]", line, maxsplit=1)[0] for line in needs["python"]}
    assert {"requests", "xmltodict", "numpy", "opencv-python-headless"} <= python, needs
    assert any(line.startswith("ca-certificates") for line in needs["system"]), needs

"""Fixtures of the release tests: the collection built and installed as users get it."""

from __future__ import annotations

import pathlib

import pytest

from tests.release.helpers import BIN, FQCN, ROOT, ansible_env, run


@pytest.fixture(scope="session")
def tarball(tmp_path_factory) -> pathlib.Path:
    """`ansible-galaxy collection build` of the source tree, with its caches and environments in place."""
    out = tmp_path_factory.mktemp("dist")
    result = run([BIN / "ansible-galaxy", "collection", "build", "--output-path", out, ROOT])
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("*.tar.gz")
    return built


@pytest.fixture(scope="session")
def installed(tarball, tmp_path_factory) -> pathlib.Path:
    """The tarball installed into an empty collections path; returns that path."""
    path = tmp_path_factory.mktemp("collections")
    result = run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", path, tarball],
                 env=ansible_env(path))
    assert result.returncode == 0, result.stdout + result.stderr
    return path


@pytest.fixture(scope="session")
def installed_dir(installed) -> pathlib.Path:
    """The installed collection's own folder."""
    return installed.joinpath("ansible_collections", *FQCN.split("."))

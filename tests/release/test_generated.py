"""Files made from others are current: regenerating them gives what is committed."""

from __future__ import annotations

import shutil

from tests.release.helpers import BIN, ROOT, run


def test_the_connection_role_is_generated_from_the_connection_options():
    result = run([BIN / "python", ROOT / "hacking/update_connection_role.py", "--check"])
    assert result.returncode == 0, result.stdout + result.stderr


def test_changelog_rst_is_what_antsibull_changelog_generates(tmp_path):
    shutil.copytree(ROOT / "changelogs", tmp_path / "changelogs",
                    ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    shutil.copy(ROOT / "galaxy.yml", tmp_path / "galaxy.yml")
    result = run([BIN / "antsibull-changelog", "generate"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    generated = (tmp_path / "CHANGELOG.rst").read_text(encoding="utf-8")
    assert (ROOT / "CHANGELOG.rst").read_text(encoding="utf-8") == generated, \
        "CHANGELOG.rst is out of date: run antsibull-changelog generate"

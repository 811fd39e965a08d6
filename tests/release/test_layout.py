"""The house as the README maps it: every module_utils file is on the map and says in its first line what it holds."""

from __future__ import annotations

import ast
import re

import pytest

from tests.release.helpers import ROOT

MODULE_UTILS = ROOT / "plugins/module_utils"
FILES = sorted(path.relative_to(MODULE_UTILS).as_posix() for path in MODULE_UTILS.rglob("*.py")
               if "__pycache__" not in path.parts)


def readme_map():
    """The code block of the README's Development section."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Development\n", 1)[1]
    return re.search(r"```\n(.*?)```", section, re.S).group(1)


@pytest.mark.parametrize("name", FILES)
def test_each_module_utils_file_says_first_what_it_holds(name):
    docstring = ast.get_docstring(ast.parse((MODULE_UTILS / name).read_text(encoding="utf-8")))
    assert docstring, "%s has no docstring" % name
    first = docstring.splitlines()[0]
    assert len(first) > 20 and first.rstrip().endswith((".", ":")), first


@pytest.mark.parametrize("name", FILES)
def test_the_readme_map_names_each_module_utils_file(name):
    listed = readme_map()
    folder, base = name.rpartition("/")[::2]
    if base == "__init__.py":
        base = ""
    assert ("plugins/module_utils/" + name) in listed or (base in listed and folder + "/" in listed), \
        "README.md's map does not name %s" % name


def test_the_readme_map_names_no_file_that_is_gone():
    for path in re.findall(r"plugins/module_utils/[\w/]+\.py", readme_map()):
        assert (ROOT / path).exists(), path

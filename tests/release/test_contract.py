"""docs/device-contract.md has a row for every CGI of the wire table."""

from __future__ import annotations

from collections import Counter

import pytest

from ansible_collections.vapix.q6000.plugins.module_utils._api_data import TABLE
from tests.release.helpers import ROOT

CONTRACT = (ROOT / "docs/device-contract.md").read_text(encoding="utf-8")
TWICE = {path for path, count in Counter(path for path, _write in TABLE).items() if count > 1}


def label(path, write):
    """The row's name: the CGI, and whether it reads or writes where the table describes it both ways."""
    return "`%s`" % path + ((" (write)" if write else " (read)") if path in TWICE else "")


@pytest.mark.parametrize("path, write", sorted(TABLE), ids=str)
def test_every_cgi_of_the_wire_table_has_a_row(path, write):
    rows = [line for line in CONTRACT.splitlines() if line.startswith("| %s |" % label(path, write))]
    assert len(rows) == 1, "docs/device-contract.md has no row for %s" % label(path, write)
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert len(cells) == 4 and all(cells), rows[0]

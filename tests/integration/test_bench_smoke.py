# -*- coding: utf-8 -*-
"""A small run of `make bench`'s fleet section: it works, and the request counts it reports hold.

Timings are printed by `make bench`, never asserted here.
"""

from __future__ import annotations

from tests.bench import fleet
from tests.bench.__main__ import render


def test_the_fleet_benchmark_runs_and_a_no_change_unit_costs_three_requests():
    rows = fleet.run(sizes=(3,), repeats=1)
    table = {row["metric"]: row["runs"][0] for row in rows}
    assert table["3 units: no-change requests per unit"] == 3.0
    assert table["3 units: no-change 401 challenges per unit"] <= 2.0
    assert table["3 units: no-change connections per unit"] <= 2.0
    assert table["3 units: first run, wall"] > 0 and table["3 units: debug floor, wall"] > 0
    printed = render(fleet.TITLE, rows)
    assert "3 units: module path / no-change (wall)" in printed

# -*- coding: utf-8 -*-
"""playbooks/report.yml after the image drift check: a knocked unit and a steady one measured on the twin and
reported in one run, opened in headless Chromium.

The pictures are at reduced resolution (heads 1280x720, PTZ 640x360), as in test_calibration_capture.py. One
execution path: the report reads what remote_calibration registered, whichever path produced it."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.emulator.process import Twin
from tests.integration.conftest import PLAYBOOKS, Runner, fresh_units, play
from tests.integration.test_report import DevTools, assert_self_contained, browse, report_written
from tests.sites import truth_points, write_site

REPORT = PLAYBOOKS / "report.yml"
REDUCED = {"resolution": "1280x720", "ptz_resolution": "640x360"}
PTZ_ACCOUNT = {"remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}"}
LINK = {"name": "link", "vapix.q6000.remote_camera_params": {
    "remote_host": "{{ q6000_remote_host }}", "http_port": "{{ q6000_remote_http_port }}",
    "remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}",
    "wait_for_connection": True, "wait_timeout": 20}}
CHECK_TASK = "Check the calibration from images"
READ_TASK = "Read identity, link and calibration"
# Every head of the steady unit (the 500-unit page is as heavy as a real one); two of the knocked one, to keep
# the image work short.
STEADY_CAMERAS, KNOCKED_CAMERAS = (1, 2, 3, 4), (1, 2)
KNOCK = 1.0  # degrees: over six times the image method's default tolerance (0.15)
FLEET = 500
MAX_PAGE = 10 * 1000 * 1000  # bytes
THUMBNAIL = (130, 64)  # pixels: the head's patch and the PTZ's view, side by side
DATA_URI = "data:image/jpeg;base64,"


@pytest.fixture(scope="module")
def twin(workdir):
    """Three units are all these tests need."""
    with Twin(units=3, workdir=workdir / "twin") as fleet:
        fleet.unused = iter(sorted(fleet.hosts))
        yield fleet


def check_plays(hosts="q6000"):
    """The drift check as playbooks/check_calibration.yml runs it: the inventory's point sets, the connection
    from the role, the result registered for the report whether or not a head drifted."""
    return [{"name": "Check", "hosts": hosts, "gather_facts": False,
             "roles": [{"role": "vapix.q6000.connection"}],
             "tasks": [{"name": CHECK_TASK, "delegate_to": "{{ q6000_delegate_to }}",
                        "module_defaults": {"group/vapix.q6000.vapix": "{{ q6000_connection }}"},
                        "vapix.q6000.remote_calibration": dict(
                            heads="{{ q6000_calibration_heads }}", recalibrate="when_drifted", drift_method="image",
                            **REDUCED),
                        "register": "q6000_calibration_result", "failed_when": False}]}]


def write_point_sets(site, unit, heads):
    (site / "host_vars" / ("%s.yml" % unit)).write_text(yaml.safe_dump({"q6000_calibration_heads": heads}))


def textured_points(twin, unit, targets):
    """Truth points at the pixels calibration_capture picks (detail the image check finds again), of those that
    see 20 m or farther: nearer content carries parallax that the device's calibration cannot fit."""
    heads = []
    for head in targets:
        truths = twin.truths(unit, head["camera"], [(p["x"], p["y"]) for p in head["pixels"]])
        pixels = [(p["x"], p["y"]) for p in truths if p["depth"] is None or p["depth"] >= 20][:5]
        assert len(pixels) >= 4, (unit, head, truths)
        heads.append({"camera": head["camera"], "points": truth_points(twin, unit, head["camera"], pixels)})
    return heads


def registered(run, task, host):
    """A task's result as `register` kept it (the records leave out `failed` when it is true)."""
    [record] = run.results(task, host)
    return dict(record["result"], failed=True) if record["status"] == "failed" else record["result"]


@pytest.fixture(scope="module")
def measured(twin, workdir):
    """A steady unit and a knocked one (later in the inventory, so its coming first is the report's doing),
    calibrated from the truth; the knocked one's baselines recorded by a first check before the knock, the
    steady one checked for the first time (its baselines are recorded then). Then the check and report.yml in
    one ansible-playbook run."""
    steady, knocked = fresh_units(twin, 2)
    units = [steady, knocked]
    site = workdir / "site-images"
    inventory = write_site(twin, site, units, cameras=())
    run = Runner(workdir)
    limit = ",".join(units)
    for unit in units:
        twin.settings(unit, ptz_speed=0)
    cameras = "{{ %s if inventory_hostname == %s else %s }}" % (
        list(KNOCKED_CAMERAS), json.dumps(knocked), list(STEADY_CAMERAS))
    picking = run(play([{"name": "pick", "vapix.q6000.calibration_capture": dict(
        PTZ_ACCOUNT, cameras=cameras, points=8, **REDUCED)}]), inventory, limit=limit, check=True)
    assert picking.rc == 0, picking.output[-3000:]
    for unit in units:
        write_point_sets(site, unit, textured_points(twin, unit, picking.result("pick", unit)["targets"]))

    calibrate = {"name": "calibrate", "when": "inventory_hostname == %s" % json.dumps(steady),
                 "vapix.q6000.remote_calibration": {"heads": "{{ q6000_calibration_heads }}"}}
    first = run(play([LINK, calibrate]) + check_plays(hosts=knocked), inventory, limit=limit)
    assert first.rc == 0, first.output[-3000:]
    result = first.result(CHECK_TASK, knocked)
    assert "msg" not in result, result["msg"]
    assert [h["action"] for h in result["heads"]] == ["calibrated"] * len(KNOCKED_CAMERAS)
    # The point sets as the inventory keeps them, each with the baseline just measured.
    assert all(h.get("baseline") for h in result["point_sets"]), result["point_sets"]
    write_point_sets(site, knocked, result["point_sets"])

    twin.knock(knocked, KNOCK)
    report = site / "fleet.html"
    checked = run(check_plays() + [{"name": "Report", "ansible.builtin.import_playbook": str(REPORT)}],
                  inventory, limit=limit, extra_vars={"q6000_report_path": str(report)})
    assert checked.rc == 0, checked.output[-3000:]
    assert report_written(checked) == str(report)
    return {"steady": steady, "knocked": knocked, "site": site, "report": report,
            "results": {unit: registered(checked, CHECK_TASK, unit) for unit in units},
            "facts": {unit: registered(checked, READ_TASK, unit) for unit in units}}


def caption(section, camera):
    return section.find("figure", data_camera=str(camera)).find("figcaption")


def in_place(devtools, sections):
    """The thumbnails of each section (by CSS selector) as the page shows them: the section scrolled to, each
    <img> awaited until decoded (or 10 s); width, height and src of each."""
    return devtools.run("""(async () => {
        const shown = [];
        for (const section of document.querySelectorAll(%s)) {
            section.scrollIntoView();
            const images = Array.from(section.querySelectorAll('img.thumbnail'));
            await Promise.race([Promise.all(images.map((img) => img.decode())),
                                new Promise((resolve) => setTimeout(resolve, 10000))]);
            shown.push(...images.map((img) => [img.naturalWidth, img.naturalHeight, img.src]));
        }
        return shown; })()""" % json.dumps(sections))


def fetched(devtools, page):
    """What the page requested beyond itself and its data URIs: nothing, when it is self-contained."""
    return {url for url in devtools.requests() if not url.startswith(DATA_URI)} - {page.as_uri()}


# --- the tests -----------------------------------------------------------------------------------------------

def test_a_knocked_unit_comes_first_flagged_with_its_pictures(measured):
    steady, knocked, results = measured["steady"], measured["knocked"], measured["results"]
    html = measured["report"].read_text()
    assert_self_contained(html)
    page = browse(measured["report"])
    assert [s.attrs["id"] for s in page.root.find_all("section", cls="unit")] == \
        ["unit-%s" % knocked, "unit-%s" % steady]
    # A head the check could not judge (too few pairs, too uncertain) is not measured: no alarm, shown apart.
    unjudged = [h for unit in results for h in results[unit]["heads"] if h["drift"]["status"] == "not_measured"]
    heads = len(KNOCKED_CAMERAS) + len(STEADY_CAMERAS) - len(unjudged)
    assert page.count("drifted") == "%d of %d measured" % (len(KNOCKED_CAMERAS), heads)
    assert page.count("failed") == "0"
    assert page.root.find("p", cls="drifted-list").text == "Drifted: %s" % knocked

    section = page.unit(knocked)
    assert "flagged" in section.classes
    # The check's own words stay on the page, though the play went on (failed_when: false).
    assert "found %d head(s) moved" % len(KNOCKED_CAMERAS) in section.find("dd", cls="check-error").text
    assert [h["camera"] for h in results[knocked]["heads"]] == list(KNOCKED_CAMERAS)
    for head in results[knocked]["heads"]:
        drift, camera = head["drift"], head["camera"]
        assert drift["flagged"] and 0.7 < drift["moved"] < 1.3, drift
        text = caption(section, camera).text
        assert "moved %.2f° (tolerance 0.15°) drifted" % drift["moved"] in text
        turn = drift["rotation"]
        assert "rotation yaw %+.2f°, pitch %+.2f°, roll %+.2f°: angle %.2f° ± %.2f°; against its baseline" % (
            turn["yaw"], turn["pitch"], turn["roll"], turn["angle"], drift["uncertainty"]) in text
        assert "flagged" in section.find("figure", data_camera=str(camera)).classes
    assert [s.text for s in section.find("dd", cls="drift-summary").find_all("span", cls="over")] == \
        ["head %d moved %.2f°" % (h["camera"], h["drift"]["moved"]) for h in results[knocked]["heads"]]

    section = page.unit(steady)
    assert "flagged" not in section.classes
    assert section.find_all("dd", cls="check-error") == []
    assert [h["camera"] for h in results[steady]["heads"]] == list(STEADY_CAMERAS)
    for head in results[steady]["heads"]:
        drift, camera = head["drift"], head["camera"]
        figure = section.find("figure", data_camera=str(camera))
        assert "flagged" not in figure.classes
        text = caption(section, camera).text
        if drift["status"] == "not_measured":
            assert "not measured: %s" % drift["reason"] in text and "drifted" not in text, text
            continue
        # Judged ok: within the tolerance give or take twice the uncertainty (its first check, against its points).
        assert drift["status"] == "ok" and drift["moved"] <= 0.15 + 2 * drift["uncertainty"], drift
        assert "moved %.2f° (tolerance 0.15°) ok" % drift["moved"] in text and "drifted" not in text
        # Its first check: measured against its point set, and its baseline recorded now.
        assert drift["against"] == "point set" and head["baseline"]
        assert "against its point set (no baseline before); baseline recorded by this run; %d pairs; worst point " \
            "%.2f°" % (drift["pairs"], drift["max"]) in text
        # Per point: its error and offsets, or why it could not be measured.
        titles = [t.text for t in figure.find("svg").find_all("title")]
        assert len(titles) == len(drift["points"])
        for title, point in zip(titles, drift["points"]):
            assert title.endswith("drift %.2f° (off pan %+.2f°, tilt %+.2f°)" % (point["error"], point["pan"], point["tilt"])
                                  if point["error"] is not None else "drift not measured: %s" % point["reason"])

    with DevTools(measured["report"].parent) as devtools:
        devtools.open(measured["report"].as_uri())
        for unit in (knocked, steady):
            shown = in_place(devtools, "#unit-%s" % unit)
            assert [src for _w, _h, src in shown] == [h["drift"]["thumbnail"] for h in results[unit]["heads"]]
            assert all((width, height) == THUMBNAIL for width, height, _src in shown), shown
        assert fetched(devtools, measured["report"]) == set()


def large_fleet_page(measured, workdir, units=FLEET):
    """The report of `units` units, rendered by the report's own tasks (tasks/render_report.yml) from what the
    twin's two units registered in `measured`: every unit a copy of the steady one (four heads measured, each
    with its thumbnail), the knocked one last in the inventory. No device is read: the page is what is tested."""
    site = workdir / "site-large"
    site.mkdir(exist_ok=True)
    names = ["unit-%04d" % number for number in range(units)]
    knocked = names[-1]
    inventory = site / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"q6000": {"hosts": {name: {"ansible_connection": "local"}
                                                             for name in names}}}))
    measured_results = {}
    for kind in ("steady", "knocked"):
        unit = measured[kind]
        heads = yaml.safe_load((measured["site"] / "host_vars" / ("%s.yml" % unit)).read_text())
        measured_results[kind] = {"facts": measured["facts"][unit], "result": measured["results"][unit],
                                  "heads": heads["q6000_calibration_heads"]}
    (site / "measured.json").write_text(json.dumps({"q6000_measured": measured_results}))
    report = site / "fleet.html"
    kind = "{{ 'knocked' if inventory_hostname == %s else 'steady' }}" % json.dumps(knocked)
    plays = [{"name": "What each unit registered", "hosts": "q6000", "gather_facts": False,
              "vars_files": [str(site / "measured.json")],
              "tasks": [{"name": "registered", "vars": {"kind": kind}, "ansible.builtin.set_fact": {
                  "q6000_report_facts": "{{ q6000_measured[kind].facts }}",
                  "q6000_calibration_result": "{{ q6000_measured[kind].result }}",
                  "q6000_calibration_heads": "{{ q6000_measured[kind].heads }}"}}]},
             {"name": "Write the fleet report", "hosts": "q6000", "gather_facts": False,
              "vars": {"q6000_units": "{{ ansible_play_hosts_all }}", "q6000_report_file": str(report)},
              "tasks": [{"ansible.builtin.import_tasks": str(PLAYBOOKS / "tasks" / "render_report.yml")}]}]
    # A site's playbook beside the report's templates, as playbooks/report.yml sits beside them.
    (site / "templates").symlink_to(PLAYBOOKS / "templates")
    playbook = site / "render.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    run = Runner(workdir)(playbook, inventory, args=["--forks", "20"], timeout=900)
    assert run.rc == 0, run.output[-3000:]
    assert report_written(run) == str(report)
    return report, knocked


def test_a_500_unit_page_stays_under_10_mb_and_shows_its_problem_first(measured, workdir):
    report, knocked = large_fleet_page(measured, workdir)
    html = report.read_text()
    assert len(html.encode()) < MAX_PAGE, "%d bytes" % len(html.encode())
    assert_self_contained(html)
    page = browse(report)
    sections = [s.attrs["id"] for s in page.root.find_all("section", cls="unit")]
    assert len(sections) == FLEET and sections[0] == "unit-%s" % knocked
    assert page.root.find("p", cls="drifted-list").text == "Drifted: %s" % knocked
    with DevTools(report.parent) as devtools:
        devtools.open(report.as_uri())
        shown = in_place(devtools, "#unit-%s" % knocked)
        assert [src for _w, _h, src in shown] == [h["drift"]["thumbnail"] for h in measured["results"][
            measured["knocked"]]["heads"]]
        assert fetched(devtools, report) == set()

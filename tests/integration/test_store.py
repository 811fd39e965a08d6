# -*- coding: utf-8 -*-
"""What the nightly check keeps and publishes, on the twin, run through ansible-runner as AWX runs it: a line of
drift history per measured head (host_vars/<unit>/q6000_history.jsonl, neither loaded as variables nor parsed as
inventory), q6000_results in the job's artifacts, the progress callback beside AWX's stdout callback, and the
fleet report drawn from the history alone (q6000_report_from=store).

One unit, one head, pictures at reduced resolution (heads 1280x720, PTZ 640x360), as test_image_drift.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import ansible_runner
import pytest
import yaml

from tests.integration.conftest import BIN, COLLECTIONS, Runner, fresh_units, play
from tests.integration.test_calibration_capture import PTZ_ACCOUNT, REDUCED
from tests.sites import write_site

LINK = {"name": "link", "vapix.q6000.remote_camera_params": {
    "remote_host": "{{ q6000_remote_host }}", "http_port": "{{ q6000_remote_http_port }}",
    "remote_username": "{{ q6000_remote_username }}", "remote_password": "{{ q6000_remote_password }}",
    "wait_for_connection": True, "wait_timeout": 20}}
CHECK = {"q6000_check_resolution": REDUCED["resolution"], "q6000_check_ptz_resolution": REDUCED["ptz_resolution"]}


def job(tmp_path, name, playbook, inventory, extra_vars):
    """One AWX-style job: ansible-runner on a private data dir whose project imports the collection's playbook."""
    data = tmp_path / name
    (data / "project").mkdir(parents=True)
    (data / "project/main.yml").write_text(yaml.safe_dump([{"ansible.builtin.import_playbook": playbook}]))
    (data / "env").mkdir()
    (data / "env/envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "ANSIBLE_CALLBACKS_ENABLED": "vapix.q6000.progress", "ANSIBLE_CALLBACK_PROGRESS_INTERVAL": "2",
        "PATH": "%s:%s" % (BIN, os.environ.get("PATH", ""))}))
    run = ansible_runner.run(private_data_dir=str(data), playbook="main.yml", inventory=str(inventory),
                             extravars=extra_vars, quiet=True, timeout=900)
    events = list(run.events)
    stats = [event for event in events if event["event"] == "playbook_on_stats"]
    artifact = stats[0]["event_data"].get("artifact_data", {}) if stats else {}
    return run, run.stdout.read(), artifact


@pytest.fixture(scope="module")
def site(twin, workdir):
    """One linked unit whose head 2 is calibrated from the twin's truth, with the baseline that calibrating by the
    image method records, in a site inventory of its own: the nightly check's usual state. (Judged against its point
    set instead, a head's pairs carry its patches' parallax, and one head is too often too uncertain to measure.)"""
    [unit] = fresh_units(twin, 1)
    directory = workdir / "site-store"
    inventory = write_site(twin, directory, [unit], cameras=(2,), content=True)
    host_vars = directory / "host_vars" / ("%s.yml" % unit)
    variables = yaml.safe_load(host_vars.read_text())
    calibrate = {"name": "calibrate", "register": "calibrate", "vapix.q6000.remote_calibration": dict(
        PTZ_ACCOUNT, heads=variables["q6000_calibration_heads"], recalibrate="always", drift_method="image",
        **REDUCED)}
    run = Runner(workdir)(play([LINK, calibrate]), twin.inventory_path, limit=unit, timeout=600)
    assert run.rc == 0, run.output[-3000:]
    variables["q6000_calibration_heads"] = run.result("calibrate", unit)["point_sets"]
    host_vars.write_text(yaml.safe_dump(variables))
    return unit, directory, inventory


def history(directory, unit):
    path = directory / "host_vars" / unit / "q6000_history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_nightly_check_keeps_history_and_publishes_results(twin, site, tmp_path):
    unit, directory, inventory = site
    report = tmp_path / "report.html"
    extra = dict(CHECK, q6000_report_path=str(report), q6000_target=unit)

    first, stdout, artifact = job(tmp_path, "first", "vapix.q6000.check_calibration", inventory, extra)
    assert (first.status, first.rc) == ("successful", 0), stdout[-3000:]
    [line] = history(directory, unit)
    assert artifact["q6000_results"] == {unit: {"status": "ok", "heads_drifted": [], "heads_not_measured": [],
                                                "changed": False}}, line
    assert line["camera"] == 2 and line["status"] == "ok" and line["flagged"] is False and line["recapture"] is False
    assert line["against"] == "baseline" and line["tolerance"] == 0.15 and 3 <= line["pairs"] <= line["points"] <= 5
    assert line["time"].endswith("Z") and line["version"]
    assert "[progress] Check the calibration of each Q6000-E from images: 1 of 1 units done" in stdout
    assert 'class="history' in report.read_text()

    # The history is neither a variable of the unit nor a source of inventory.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    shown = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(inventory), "--host", unit], env=env,
                           capture_output=True, text=True, check=True)
    variables = json.loads(shown.stdout)
    assert "q6000_calibration_heads" in variables
    assert not [key for key in variables if "history" in key or key in ("time", "camera", "moved")]
    listed = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(directory), "--list"], env=env,
                            capture_output=True, text=True, check=True)
    assert "q6000_history" not in listed.stdout + listed.stderr and "WARNING" not in listed.stderr
    assert unit in json.loads(listed.stdout)["_meta"]["hostvars"]

    # The report from the store: no device is touched, the history is drawn.
    before = twin.counters(unit)["cgi"]
    (directory / "host_vars" / unit / "q6000_history.jsonl").open("a").write("not json\n")
    stored = tmp_path / "stored.html"
    third, stdout, _artifact = job(tmp_path, "report", "vapix.q6000.report", inventory,
                                   {"q6000_report_from": "store", "q6000_report_path": str(stored),
                                    "q6000_target": unit})
    assert (third.status, third.rc) == ("successful", 0), stdout[-3000:]
    assert twin.counters(unit)["cgi"] == before
    page = stored.read_text()
    assert 'id="unit-%s"' % unit in page and "1 in the history" in page and "line 2 does not parse" in page
    assert "Traceback" not in stdout and "line 2 skipped" in stdout


# --- the git store, against a bare repository served by git daemon ---------------------------------------------

def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GitServer:
    """Bare repositories under `root`, served by `git daemon` (pushes enabled) on a free port of 127.0.0.1."""

    def __init__(self, root):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["git", "daemon", "--enable=receive-pack", "--listen=127.0.0.1", "--port=%d" % self.port,
             "--base-path=%s" % self.root, "--export-all", "--reuseaddr", str(self.root)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import socket
        import time

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("git daemon did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def url(self, name):
        return "git://127.0.0.1:%d/%s" % (self.port, name)

    def seed(self, name, files, branch="main"):
        """A bare repository `name` whose branch holds `files` ({path: text}); returns its URL."""
        bare = self.root / name
        git("init", "--quiet", "--bare", "--initial-branch", branch, str(bare))
        seed = self.root / (name + ".seed")
        git("clone", "--quiet", str(bare), str(seed))
        for path, text in files.items():
            (seed / path).parent.mkdir(parents=True, exist_ok=True)
            (seed / path).write_text(text)
        git("-C", str(seed), "add", "--all")
        git("-C", str(seed), "-c", "user.name=seed", "-c", "user.email=seed@localhost", "commit", "--quiet", "-m", "seed")
        git("-C", str(seed), "push", "--quiet", "origin", "HEAD:refs/heads/%s" % branch)
        return self.url(name)


def git(*args, cwd=None):
    return subprocess.run(["git"] + list(args), cwd=cwd, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def server(tmp_path):
    served = GitServer(tmp_path / "served").start()
    yield served
    served.stop()


HOSTS = "q6000:\n  hosts:\n    u1: {}\n    u2: {}\n    u3: {}\n  vars:\n    ansible_connection: local\n"
# The store's role as the playbooks use it, without devices: check first, then point sets and history kept per
# unit (u1 then fails), then one commit at the end, in an always block.
STORE_PLAY = [
    {"name": "Store", "hosts": "q6000", "gather_facts": False,
     "pre_tasks": [{"name": "Check", "ansible.builtin.import_role": {"name": "vapix.q6000.store", "tasks_from": "check"}},
                   {"name": "Device work", "ansible.builtin.debug": {"msg": "touched"}}],
     "tasks": [
         {"name": "Write point sets", "when": "inventory_hostname != 'u3'",
          "ansible.builtin.include_role": {"name": "vapix.q6000.store"},
          "vars": {"q6000_store_heads": [{"camera": 1, "points": [{"x": 0.1, "y": 0.2, "pan": 1.0, "tilt": 2.0}]}]}},
         {"name": "History", "ansible.builtin.include_role": {"name": "vapix.q6000.store", "tasks_from": "history"},
          "vars": {"q6000_store_history": ['{"time": "2026-12-06T02:00:00Z", "camera": 1, "moved": 0.1, '
                                           '"run": "{{ run_id }}"}']}},
         {"name": "Lose the store", "when": "lose_store | default('') | length > 0", "run_once": True,
          "ansible.builtin.command": "{{ lose_store }}"},
         {"name": "Fail u1", "when": "inventory_hostname == 'u1'", "ansible.builtin.fail": {"msg": "on purpose"}}]},
    {"name": "End", "hosts": "q6000", "gather_facts": False, "tasks": [
        {"name": "Publish", "block": [{"name": "Publish", "ansible.builtin.set_stats": {
            "data": {"q6000_results": "{{ ansible_play_hosts_all | vapix.q6000.run_results(hostvars, 'check') }}"}}}],
         "always": [{"name": "Commit", "ansible.builtin.include_role": {"name": "vapix.q6000.store", "tasks_from": "commit"},
                     "vars": {"q6000_store_playbook": "store-test.yml"}}]}]},
]


def store_run(tmp_path, url, branch="main", run_id="1", check=False, **extra):
    """The store play over a fresh clone of the inventory repository (as an AWX project is), with the git store."""
    project = tmp_path / ("project-%s" % run_id)
    if not project.exists():
        git("clone", "--quiet", "--branch", branch, url, str(project))
    (tmp_path / "store.yml").write_text(yaml.safe_dump(STORE_PLAY, sort_keys=False))
    variables = dict({"q6000_store": "git", "q6000_store_git_url": url, "q6000_store_git_branch": branch,
                      "q6000_store_git_subdir": "site", "run_id": run_id}, **extra)
    command = [str(BIN / "ansible-playbook"), "-i", str(project / "site/hosts.yml"), str(tmp_path / "store.yml"),
               "-e", json.dumps(variables)] + (["--check"] if check else [])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_SHOW_CUSTOM_STATS="1",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    return subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
                          check=False)


def served_files(tmp_path, url, name):
    clone = tmp_path / name
    git("clone", "--quiet", url, str(clone))
    return clone


def test_the_git_store_commits_once_for_the_run_failed_units_included(server, tmp_path):
    url = server.seed("store.git", {"site/hosts.yml": HOSTS, "site/host_vars/u2.yml": "q6000_calibration_heads: []\n"})
    checked = store_run(tmp_path, url, check=True)
    assert checked.returncode == 2 and "TASK [Device work]" in checked.stdout, checked.stdout[-3000:]
    assert git("ls-remote", url).count("refs/heads/") == 1
    assert git("-C", str(served_files(tmp_path, url, "after-check")), "rev-list", "--count", "HEAD").strip() == "1"

    run = store_run(tmp_path, url)
    assert run.returncode == 2, run.stdout[-3000:]  # u1 failed on purpose
    clone = served_files(tmp_path, url, "after")
    assert git("-C", str(clone), "rev-list", "--count", "HEAD").strip() == "2"
    message = git("-C", str(clone), "log", "-1", "--format=%an <%ae>%n%B")
    assert message.startswith("vapix.q6000 <q6000@localhost>\nstore-test.yml: u1, u2, u3\n"), message
    assert "Point sets and baselines of u1, u2." in message and "site/host_vars/u3/q6000_history.jsonl" in message
    assert (clone / ".gitattributes").read_text() == "*.jsonl merge=union\n"
    # u1 failed after its results were kept: they are committed with the others'.
    for unit in ("u1", "u2", "u3"):
        [line] = (clone / "site/host_vars" / unit / "q6000_history.jsonl").read_text().splitlines()
        assert json.loads(line)["run"] == "1"
    assert yaml.safe_load((clone / "site/host_vars/u1/q6000_calibration.yml").read_text())["q6000_calibration_heads"]
    # host_vars/u2.yml, which the folder would hide, moved in unchanged as main.yml.
    assert (clone / "site/host_vars/u2/main.yml").read_text() == "q6000_calibration_heads: []\n"
    assert not (clone / "site/host_vars/u2.yml").exists()
    assert '"q6000_results"' in run.stdout and '"u1"' in run.stdout


@pytest.mark.parametrize("missing, option", [("q6000_store_git_url", "q6000_store_git_url"),
                                             ("q6000_store_git_branch", "q6000_store_git_branch")])
def test_a_git_store_without_url_or_branch_fails_before_any_device(server, tmp_path, missing, option):
    url = server.seed("store.git", {"site/hosts.yml": HOSTS})
    git("clone", "--quiet", url, str(tmp_path / "project-1"))
    run = store_run(tmp_path, url, **{missing: ""})
    assert run.returncode == 2
    assert "%s is required with q6000_store=git" % option in run.stdout, run.stdout[-2000:]
    assert "TASK [Device work]" not in run.stdout


def test_a_store_out_of_reach_fails_before_any_device_and_hides_the_token(server, tmp_path):
    url = server.seed("store.git", {"site/hosts.yml": HOSTS})
    git("clone", "--quiet", url, str(tmp_path / "project-1"))
    secret = "t0ken-%d" % free_port()
    run = store_run(tmp_path, url, q6000_store_git_url="http://ops:%s@127.0.0.1:%d/store.git" % (secret, free_port()))
    assert run.returncode == 2
    assert "the git store http://***@127.0.0.1:" in run.stdout and "cannot be reached" in run.stdout, run.stdout[-2000:]
    assert "TASK [Device work]" not in run.stdout
    assert secret not in run.stdout + run.stderr


def test_a_store_lost_during_the_run_fails_after_the_work_with_the_results_published(server, tmp_path):
    url = server.seed("store.git", {"site/hosts.yml": HOSTS})
    git("clone", "--quiet", url, str(tmp_path / "project-1"))
    # The served repository moves away after the check, while the units work.
    bare = server.root / "store.git"
    run = store_run(tmp_path, url, lose_store="mv %s %s.gone" % (bare, bare))
    assert run.returncode == 2
    assert "the commit of store-test.yml was not pushed" in run.stdout, run.stdout[-3000:]
    assert "could not be cloned" in run.stdout
    assert '"q6000_results"' in run.stdout


def test_two_runs_at_once_lose_no_line(server, tmp_path):
    url = server.seed("store.git", {"site/hosts.yml": HOSTS})
    runs = []
    for run_id in ("a", "b"):
        git("clone", "--quiet", url, str(tmp_path / ("project-%s" % run_id)))
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda run_id: store_run(tmp_path, url, run_id=run_id), ["a", "b"]))
    assert all(run.returncode == 2 for run in runs), [run.stdout[-2000:] for run in runs]  # u1 fails on purpose
    clone = served_files(tmp_path, url, "after")
    for unit in ("u1", "u2", "u3"):
        lines = [json.loads(line)["run"] for line in
                 (clone / "site/host_vars" / unit / "q6000_history.jsonl").read_text().splitlines()]
        assert sorted(lines) == ["a", "b"], lines
    assert git("-C", str(clone), "rev-list", "--count", "HEAD").strip() == "3"

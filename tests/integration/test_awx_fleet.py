# -*- coding: utf-8 -*-
"""Long runs as AWX runs them, without devices: the progress callback (vapix.q6000.progress) through
ansible-playbook and ansible-runner, and async tasks where HOME is not the account's home (as in an execution
environment), which need an absolute ANSIBLE_ASYNC_DIR."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import sys

import ansible_runner
import yaml

from tests.integration.conftest import BIN, COLLECTIONS

# Five units on the local connection; one is never reached, one fails; two batches.
INVENTORY = {"all": {"hosts": {"u1": {}, "u2": {}, "u3": {}, "u4": {"q6000_fail": True},
                               "u5": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 9,
                                      "ansible_ssh_common_args": "-o ConnectTimeout=2"}},
                     "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}
PLAYBOOK = [
    {"name": "Slow play", "hosts": "all", "gather_facts": False, "serial": [2, 3], "max_fail_percentage": 100,
     "tasks": [{"name": "Wait a while", "ansible.builtin.wait_for": {"timeout": 1}},
               {"name": "Fail one", "when": "q6000_fail | default(false)", "ansible.builtin.fail": {"msg": "no"}}]},
    {"name": "Second play", "hosts": "u1:u2", "gather_facts": False,
     "tasks": [{"name": "Wait again", "ansible.builtin.wait_for": {"timeout": 2}}]},
]
LINE = re.compile(r"^\[progress\] (?P<play>[^:]+): (?P<done>\d+) of (?P<total>\d+) units done, (?P<failed>\d+) failed, "
                  r"(?P<unreachable>\d+) unreachable; (?P<rest>.*)$")


def environment(**more):
    env = dict(os.environ)
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_HOST_KEY_CHECKING": "False",
                "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_NOCOLOR": "1",
                "PATH": "%s:%s" % (BIN, os.environ.get("PATH", ""))})
    env.update(more)
    return env


def progress_lines(text):
    return [LINE.match(line).groupdict() for line in text.splitlines() if line.startswith("[progress]")]


def check_progress(lines):
    slow = [line for line in lines if line["play"] == "Slow play"]
    second = [line for line in lines if line["play"] == "Second play"]
    # Lines during the plays (every interval) and one at the end of each.
    assert len(slow) >= 2 and len(second) >= 2, lines
    assert all(line["total"] == "5" for line in slow) and all(line["total"] == "2" for line in second)
    assert slow[-1] == {"play": "Slow play", "done": "5", "total": "5", "failed": "1", "unreachable": "1",
                        "rest": slow[-1]["rest"]} and slow[-1]["rest"].startswith("the play took ")
    assert second[-1]["done"] == "2" and second[-1]["rest"].startswith("the play took ")
    during = [line["rest"] for line in second[:-1]]
    assert all("task 'Wait again'" in rest for rest in during), during
    assert any("left" in line["rest"] for line in slow[:-1]), slow


def test_progress_through_ansible_playbook(tmp_path):
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(INVENTORY))
    (tmp_path / "play.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    # The interval from ansible.cfg; the stdout callback stays the default one.
    (tmp_path / "ansible.cfg").write_text("[defaults]\ncallbacks_enabled = vapix.q6000.progress\n"
                                          "[callback_progress]\ninterval = 0.5\n")
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", "hosts.yml", "play.yml"], cwd=tmp_path,
                          env=environment(ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg")), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert done.returncode == 4, done.stdout + done.stderr  # a unit unreachable (and one failed)
    assert "PLAY RECAP" in done.stdout
    check_progress(progress_lines(done.stdout))


def test_progress_through_ansible_runner_beside_its_stdout_callback(tmp_path):
    data = tmp_path / "job"
    for folder in ("project", "inventory", "env"):
        (data / folder).mkdir(parents=True)
    (data / "project/play.yml").write_text(yaml.safe_dump(PLAYBOOK, sort_keys=False))
    (data / "inventory/hosts.yml").write_text(yaml.safe_dump(INVENTORY))
    (data / "env/envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_CALLBACKS_ENABLED": "vapix.q6000.progress",
        "ANSIBLE_CALLBACK_PROGRESS_INTERVAL": "0.5", "ANSIBLE_HOST_KEY_CHECKING": "False",
        "PATH": "%s:%s" % (BIN, os.environ.get("PATH", ""))}))
    job = ansible_runner.run(private_data_dir=str(data), playbook="play.yml", quiet=True, timeout=120)
    assert job.status == "failed" and job.rc == 4
    stdout = job.stdout.read()
    check_progress(progress_lines(stdout))
    # The job's events are ansible-runner's (its own stdout callback ran): the progress lines come as verbose ones.
    events = list(job.events)
    assert any(event["event"] == "runner_on_unreachable" for event in events)
    assert any(event["event"] == "verbose" and "[progress]" in event.get("stdout", "") for event in events)


ASYNC = [{"name": "Async", "hosts": "u1", "gather_facts": False, "tasks": [
    {"name": "Work in the background", "ansible.builtin.command": "sleep 1", "async": 30, "poll": 1,
     "changed_when": False},
    {"name": "Start in the background", "ansible.builtin.command": "sleep 1", "async": 30, "poll": 0,
     "register": "job", "changed_when": False},
    {"name": "Wait for it", "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"}, "register": "waited",
     "until": "waited.finished", "retries": 20, "delay": 1}]}]


def test_async_tasks_need_an_absolute_async_dir_when_home_is_not_the_accounts(tmp_path):
    """As in an execution environment: HOME is not the passwd entry's home. async_status of the local connection
    looks under the passwd home while the job writes under $HOME: without ANSIBLE_ASYNC_DIR every async task fails
    with "could not find job"; with an absolute one (the execution environment sets it) they run."""
    home = tmp_path / "home"
    home.mkdir()
    assert pwd.getpwuid(os.getuid()).pw_dir != str(home)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(INVENTORY))
    (tmp_path / "async.yml").write_text(yaml.safe_dump(ASYNC, sort_keys=False))
    base = {"HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp")}
    base_env = environment(**base)
    base_env.pop("ANSIBLE_ASYNC_DIR", None)

    def run(env):
        return subprocess.run([str(BIN / "ansible-playbook"), "-i", "hosts.yml", "async.yml"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, check=False)

    broken = run(base_env)
    assert broken.returncode != 0 and "could not find job" in broken.stdout + broken.stderr, broken.stdout
    mended = run(dict(base_env, ANSIBLE_ASYNC_DIR=str(tmp_path / "async")))
    assert mended.returncode == 0, mended.stdout + mended.stderr
    assert list((tmp_path / "async").iterdir()), "the jobs were not written to ANSIBLE_ASYNC_DIR"


# --- one report from sliced jobs ---------------------------------------------------------------------------------

SLICES = 4
UNITS = 20
KNOCKED = (3, 11)  # indexes of the units knocked
# The heads' points are the twin's truth, and their first check has no baseline yet, so it judges the turn against
# the points themselves, which the matcher's parallax makes up to about 0.4 degrees: a knock of 2 degrees against a
# tolerance of 0.8 (a baseline per head would cost a measurement more per head).
KNOCK, TOLERANCE = 2.0, 0.8


def test_sliced_nightly_checks_push_to_one_store_and_one_report_reads_it(tmp_path):  # noqa: C901
    """The nightly check over 20 twin units as 4 AWX slices (units i, i+4, ... each), each an ansible-runner job
    on its own fresh clone of the inventory repository, all pushing (at once) to one bare repository served by
    git daemon; then the report job, from a fifth clone, draws the fleet from the store's history alone."""
    import concurrent.futures
    import json as json_

    from tests.emulator.process import Twin
    from tests.integration.conftest import Runner, play
    from tests.integration.test_calibration_capture import PTZ_ACCOUNT, REDUCED
    from tests.integration.test_store import LINK, GitServer, git
    from tests.sites import truth_points, write_site

    with Twin(units=UNITS, workdir=tmp_path / "twin") as twin:
        units = sorted(twin.hosts)
        site = write_site(twin, tmp_path / "seed" / "site", units, cameras=(1,), content=True).parent
        # A knocked unit checks two heads: a head can be left not measured (too few of its points found again),
        # and the knock must still be found.
        for index in KNOCKED:
            heads = [{"camera": camera, "points": truth_points(twin, units[index], camera, content=True)}
                     for camera in (1, 2)]
            (site / "host_vars" / ("%s.yml" % units[index])).write_text(
                yaml.safe_dump({"q6000_calibration_heads": heads}, sort_keys=False))
        calibrate = {"name": "calibrate", "vapix.q6000.remote_calibration": dict(
            PTZ_ACCOUNT, heads="{{ q6000_calibration_heads }}", recalibrate="always")}
        ready = Runner(tmp_path)(play([LINK, calibrate]), site / "inventory.yml", args=["--forks", "10"], timeout=600)
        assert ready.rc == 0, ready.output[-3000:]
        for index in KNOCKED:
            twin.knock(units[index], KNOCK)

        server = GitServer(tmp_path / "served").start()
        try:
            files = {"site/" + str(path.relative_to(site)): path.read_text() for path in site.rglob("*") if path.is_file()}
            url = server.seed("inventory.git", files)
            store = {"q6000_store": "git", "q6000_store_git_url": url, "q6000_store_git_branch": "main",
                     "q6000_store_git_subdir": "site", "q6000_check_resolution": REDUCED["resolution"],
                     "q6000_check_ptz_resolution": REDUCED["ptz_resolution"], "q6000_check_tolerance": TOLERANCE}

            def job(name, playbook, limit=None, **extra):
                data = tmp_path / name
                for folder in ("project", "env"):
                    (data / folder).mkdir(parents=True)
                git("clone", "--quiet", "--branch", "main", url, str(data / "inventory"))
                (data / "project/main.yml").write_text(yaml.safe_dump([{"ansible.builtin.import_playbook": playbook}]))
                (data / "env/envvars").write_text(yaml.safe_dump({
                    "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
                    "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_FORKS": "2",
                    "ANSIBLE_CALLBACKS_ENABLED": "vapix.q6000.progress", "ANSIBLE_CALLBACK_PROGRESS_INTERVAL": "15",
                    "PATH": "%s:%s" % (BIN, os.environ.get("PATH", ""))}))
                ran = ansible_runner.run(private_data_dir=str(data), playbook="main.yml",
                                         inventory=str(data / "inventory/site/inventory.yml"), limit=limit,
                                         extravars=dict(store, q6000_report_path=str(data / "report.html"), **extra),
                                         quiet=True, timeout=900)
                stats = [e for e in ran.events if e["event"] == "playbook_on_stats"]
                return ran, ran.stdout.read(), (stats[0]["event_data"].get("artifact_data") or {}) if stats else {}

            slices = [",".join(units[index::SLICES]) for index in range(SLICES)]
            with concurrent.futures.ThreadPoolExecutor(SLICES) as pool:
                done = list(pool.map(lambda n: job("slice-%d" % n, "vapix.q6000.check_calibration", slices[n]),
                                     range(SLICES)))
            results = {}
            for n, (ran, stdout, artifact) in enumerate(done):
                knocked_here = [units[i] for i in KNOCKED if i % SLICES == n]
                assert ran.rc == (2 if knocked_here else 0), stdout[-3000:]
                results.update(artifact["q6000_results"])
            assert sorted(results) == units
            assert sorted(u for u, r in results.items() if r["status"] == "drifted") == [units[i] for i in KNOCKED], \
                ({units[i]: results[units[i]] for i in KNOCKED}, [out[-2000:] for _r, out, _a in done])
            assert all(r["status"] == "ok" for u, r in results.items() if u not in [units[i] for i in KNOCKED])

            report, stdout, _artifact = job("report", "vapix.q6000.report", q6000_report_from="store")
            assert (report.status, report.rc) == ("successful", 0), stdout[-3000:]
            page = (tmp_path / "report/report.html").read_text()
            stored = tmp_path / "stored"
            git("clone", "--quiet", url, str(stored))
            # One commit per slice, none lost.
            assert git("-C", str(stored), "rev-list", "--count", "HEAD").strip() == str(1 + SLICES)
        finally:
            server.stop()

    for unit in units:
        lines = [json_.loads(text) for text in
                 (stored / "site/host_vars" / unit / "q6000_history.jsonl").read_text().splitlines()]
        assert [line["camera"] for line in lines] == ([1, 2] if unit in [units[i] for i in KNOCKED] else [1])
        assert 'id="unit-%s"' % unit in page
        section = page.split('id="unit-%s"' % unit, 1)[1].split("</section>", 1)[0]
        for line in lines:
            if line["status"] == "not_measured":  # shown apart, with its reason; never a drift
                assert line["moved"] is None and line["flagged"] is False and "not measured" in section, section
                continue
            assert "moved %.2f° of %g°" % (line["moved"], line["tolerance"]) in section, section
            assert line["flagged"] == (unit in [units[i] for i in KNOCKED])
    header = page.split("<main>", 1)[0]
    assert "Drifted: " in header and all(units[i] in header for i in KNOCKED)

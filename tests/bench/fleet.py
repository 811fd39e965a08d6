"""The fleet section: playbooks/site.yml over twin fleets, against the floors it can be compared with.

For each fleet size, in one invocation and with the same inventory, forks and batches:
- the first run (every link set, every head calibrated: checked on every unit, or the section fails) and a
  no-change run, with the controller-side path;
- the same no-change run with the modules forced onto the ordinary module path;
- a playbook of as many ansible.builtin.debug tasks as the no-change run ran (the floor of any playbook);
- a hand-written script with requests and a thread pool doing the no-change run's reads.
Wall time, controller CPU (ansible-playbook and its workers) and the peak memory of that process tree are
measured; requests, 401 challenges and connections per unit come from the twin's counters.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.emulator.process import Twin
from tests.sites import write_site

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SIZES = (50, 200, 500)
REPEATS = 3
FORKS = 50
TITLE = "fleet: playbooks/site.yml over twin fleets (forks %d, medians of %d)" % (FORKS, REPEATS)


def _children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_rss(root):
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, encoding="utf-8") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    total = 0
    for pid in tree:
        try:
            with open("/proc/%d/statm" % pid, encoding="utf-8") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def environment(forks):
    """ansible-playbook's environment for a measured run: this checkout's collection, `forks` workers."""
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"), ANSIBLE_FORKS=str(forks),
                ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_NOCOLOR="1")


def measure(command, env, log):
    """Run a command; (wall seconds, CPU seconds of it and its descendants, peak tree RSS in MiB)."""
    cpu = _children()
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    wall = time.monotonic() - started
    sampler.join()
    if process.returncode:
        raise RuntimeError("%s failed with %s; see %s" % (" ".join(command[:4]), process.returncode, log.name))
    return wall, _children() - cpu, peak[0] / 2 ** 20


def floor_playbook(path, tasks_per_unit, tasks_on_localhost):
    """The site's plays with every task replaced by ansible.builtin.debug."""
    debug = '    - ansible.builtin.debug:\n        msg: "{{ inventory_hostname }}"\n'
    path.write_text(
        "- hosts: q6000\n  gather_facts: false\n  serial: [1, '25%', '100%']\n  tasks:\n" + debug * tasks_per_unit
        + "- hosts: localhost\n  gather_facts: false\n  tasks:\n" + debug * tasks_on_localhost)
    return path


def tasks_run(log_path):
    """Tasks run per unit, and once for the run (the summaries run once, on one unit), from a run's PLAY RECAP."""
    recap = Path(log_path).read_text().rsplit("PLAY RECAP", 1)[1]
    counts = [int(ok) for _host, ok in re.findall(r"^(\S+)\s+: ok=(\d+)", recap, re.M)]
    per_unit = max(set(counts), key=counts.count)
    return per_unit, max(counts) - per_unit


def bench_size(units, repeats, workdir):
    rows = {}

    def add(metric, value, unit, digits=2):
        rows.setdefault(metric, {"metric": metric, "unit": unit, "runs": [], "digits": digits})["runs"].append(value)

    env = environment(FORKS)
    with Twin(units, workdir=workdir / "twin") as twin:
        inventory = write_site(twin, workdir / "site", sorted(twin.hosts))
        playbook = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(REPO / "playbooks" / "site.yml")]
        script = [sys.executable, "-m", "tests.bench.handwritten", str(inventory), str(FORKS)]
        for _repeat in range(repeats):
            twin.factory_reset()
            twin.reset()
            with open(workdir / "first.log", "w") as log:
                first = measure(playbook, env, log)
            check_rolled_out(twin)
            twin.reset()
            with open(workdir / "nochange.log", "w") as log:
                nochange = measure(playbook, env, log)
            counters = twin.counters()
            with open(workdir / "module.log", "w") as log:
                module = measure(playbook + ["-e", "vapix_q6000_execution=module"], env, log)
            floor = floor_playbook(workdir / "floor.yml", *tasks_run(workdir / "nochange.log"))
            with open(workdir / "floor.log", "w") as log:
                debug = measure([str(BIN / "ansible-playbook"), "-i", str(inventory), str(floor)], env, log)
            with open(workdir / "script.log", "w") as log:
                handwritten = measure(script, env, log)

            prefix = "%d units: " % units
            add(prefix + "first run, wall", first[0], "s")
            add(prefix + "first run, controller CPU", first[1], "s")
            add(prefix + "no-change run, wall", nochange[0], "s")
            add(prefix + "no-change run, controller CPU", nochange[1], "s")
            add(prefix + "no-change run, wall per unit", 1000 * nochange[0] / units, "ms", 1)
            add(prefix + "no-change, module path, wall", module[0], "s")
            add(prefix + "no-change, module path, controller CPU", module[1], "s")
            add(prefix + "debug floor, wall", debug[0], "s")
            add(prefix + "hand-written script, wall", handwritten[0], "s")
            add(prefix + "no-change / debug floor (wall)", nochange[0] / debug[0], "x")
            add(prefix + "module path / no-change (wall)", module[0] / nochange[0], "x")
            add(prefix + "module path / no-change (CPU)", module[1] / nochange[1], "x")
            add(prefix + "no-change / hand-written script (wall)", nochange[0] / handwritten[0], "x")
            add(prefix + "no-change requests per unit", sum(counters["cgi"].values()) / units, "", 2)
            add(prefix + "no-change 401 challenges per unit", counters["unauthorized"] / units, "", 2)
            add(prefix + "no-change connections per unit", counters["connections"] / units, "", 2)
            add(prefix + "no-change peak controller memory", nochange[2], "MiB", 0)
            add(prefix + "module path peak controller memory", module[2], "MiB", 0)
        log = twin.log_text()
    if "Traceback" in log or "ERROR" in log:
        raise RuntimeError("the twin logged errors under %d units:\n%s" % (units, log[-3000:]))
    return list(rows.values())


def check_rolled_out(twin):
    """Figures of a rollout that left a unit unlinked or a head uncalibrated would mean nothing."""
    wrong = []
    for host in sorted(twin.hosts):
        state = twin.state(host)
        if state["status"] != 0 or not all(state["calibrated"].values()):
            wrong.append(host)
    if wrong:
        raise RuntimeError("the first run left %d of %d units unlinked or not calibrated: %s"
                           % (len(wrong), len(twin.hosts), ", ".join(wrong[:10])))


def run(sizes=SIZES, repeats=REPEATS):
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        for units in sizes:
            rows += bench_size(units, repeats, Path(tmp) / str(units))
    per_unit = {r["metric"].split(" ", 1)[0]: r["runs"] for r in rows if r["metric"].endswith("wall per unit")}
    if len(per_unit) > 1:
        smallest, largest = per_unit[str(min(sizes))], per_unit[str(max(sizes))]
        rows.append({"metric": "wall per unit, %d vs %d units" % (max(sizes), min(sizes)), "unit": "x",
                     "runs": [b / a for a, b in zip(smallest, largest)], "digits": 2})
    return rows

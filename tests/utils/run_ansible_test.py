"""Run ansible-test on a copy of the collection laid out as ansible_collections/<namespace>/<name>.

ansible-test finds the collection from its working directory, which must lie inside
ansible_collections/<namespace>/<name>. The checkout is not in such a path, and running from the link
under .venv/collections does not help: the working directory of a process is the resolved path. So this
copies the files git knows (tracked, plus untracked ones that are not ignored, so new files are checked
before they are added) to tests/output/ansible-test/pyX.Y/ansible_collections/<namespace>/<name> (one
copy per Python, so the runs of the version matrix do not share one) and runs ansible-test there with the
Python of the calling venv. The copy gets its own empty git repository:
ansible-test lists a collection's files with git from the nearest enclosing repository, and in this
checkout's repository tests/output is ignored, so it would see no file at all.
Usage: python tests/utils/run_ansible_test.py ARGS...
"""

import os
import pathlib
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode()
    return sorted({name for name in out.split("\0") if name and os.path.lexists(ROOT / name)})


def copy_collection() -> pathlib.Path:
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    base = ROOT / "tests/output/ansible-test" / ("py%d.%d" % sys.version_info[:2])
    dest = base / "ansible_collections" / galaxy["namespace"] / galaxy["name"]
    shutil.rmtree(base, ignore_errors=True)
    for name in tracked_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)
    subprocess.run(["git", "init", "--quiet", str(dest)], check=True)
    return dest


def main() -> int:
    subprocess.run([sys.executable, str(ROOT / "tests/utils/get_pip_cache.py")], check=True)
    dest = copy_collection()
    ansible_test = pathlib.Path(sys.executable).parent / "ansible-test"
    return subprocess.run([sys.executable, str(ansible_test), *sys.argv[1:]], cwd=dest, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())

"""Provide the pip bootstrapper that ansible-test needs to build its --venv environments.

ansible-test installs pip into each new venv with a get-pip script it downloads from a host that this
machine cannot reach, unless a cached copy already exists under ~/.ansible/test/cache. This writes that
cached script for the pip version the running ansible-test asks for: the script installs pip from the
pip wheel downloaded from PyPI into the same folder. Run it with the Python of the venv that holds
ansible-test; it is idempotent.
"""

import os
import pathlib
import re
import subprocess
import sys
import types

import ansible_test
from ansible_test._internal.python_requirements import get_venv_packages

# What ansible-test runs as the bootstrapper: `python get_pip_X_Y.py [pip options] pip==X.Y
# --no-setuptools --no-wheel` (through runpy, so __file__ is set). It only needs pip installed.
SCRIPT = '''\
"""pip bootstrapper for ansible-test: installs pip {version} from the wheel beside this file."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, {wheel!r}))

from pip._internal.cli.main import main

ARGS = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", HERE] + ARGS))
'''


def cache_path_pattern() -> str:
    """The cache path ansible-test checks, read from its own source so that a change there fails here."""
    source = pathlib.Path(ansible_test.__file__).parent / "_util/target/setup/requirements.py"
    match = re.search(r"cache_path = os\.path\.expanduser\('([^']+)'", source.read_text())
    if not match:
        sys.exit(f"cannot find the pip bootstrapper cache path in {source}")
    return match.group(1)


def main() -> None:
    python = types.SimpleNamespace(version="%d.%d" % sys.version_info[:2])
    pip_version = get_venv_packages(python)["pip"]
    script = pathlib.Path(os.path.expanduser(cache_path_pattern() % pip_version.replace(".", "_")))
    script.parent.mkdir(parents=True, exist_ok=True)

    wheel = next(script.parent.glob(f"pip-{pip_version}-*.whl"), None)
    if wheel is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", str(script.parent), f"pip=={pip_version}"],
            check=True,
        )
        wheel = next(script.parent.glob(f"pip-{pip_version}-*.whl"))

    text = SCRIPT.format(version=pip_version, wheel=wheel.name)
    if not script.exists() or script.read_text() != text:
        script.write_text(text)
    print(f"ansible-test pip {pip_version} bootstrapper: {script}")


if __name__ == "__main__":
    main()

"""What a user would write by hand instead of the collection: the no-change run's reads, with a thread pool.

`python -m tests.bench.handwritten INVENTORY [THREADS]`: for every unit of the twin's inventory, one
keep-alive session with Digest authentication reading getvapixparams, getvapixstatus and iscalibrated.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import requests
import yaml
from requests.auth import HTTPDigestAuth

CGIS = ("remotecameracontrol/getvapixparams.cgi", "remotecameracontrol/getvapixstatus.cgi",
        "ptremotecalibration/iscalibrated.cgi")


def read_unit(hostvars):
    with requests.Session() as session:
        session.auth = HTTPDigestAuth(hostvars["q6000_username"], hostvars["q6000_password"])
        for cgi in CGIS:
            response = session.get("http://%s:%s/axis-cgi/%s" % (hostvars["ansible_host"], hostvars["q6000_port"], cgi),
                                   params={"schemaversion": "1"}, timeout=10)
            response.raise_for_status()
            if "GeneralError" in response.text:
                raise RuntimeError(response.text)


def main(argv):
    inventory = yaml.safe_load(open(argv[1], encoding="utf-8"))
    units = list(inventory["all"]["children"]["q6000"]["hosts"].values())
    with ThreadPoolExecutor(max_workers=int(argv[2]) if len(argv) > 2 else 50) as pool:
        list(pool.map(read_unit, units))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

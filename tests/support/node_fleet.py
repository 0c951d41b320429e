# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Several "nodes" binding one key to one fleet at once: what AWX execution nodes, container-group pods or sliced jobs do.

Each node is one ansible-playbook process with a home, TMPDIR and rate limit folder of its own (so the single-machine
limit coordinates nothing between them) and a static inventory of its share of the fleet, bound in one run_once task.
With a Redis URL (rate_limit_url, through TENCENTCLOUD_RATE_LIMIT_URL) the nodes share one budget. Used by
tests/e2e/test_shared_limit_redis.py and the benchmark (tests/benchmark/bench_nodes.py). Standard library only.
"""

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
from fleet import fleet_key_id  # pylint: disable=import-error

KEY_ID = fleet_key_id(0)
RUN_ONCE = (
    """\
- name: Bind the key to the instances of all hosts of the play in one task
  hosts: fleet
  gather_facts: false
  tasks:
    - name: bind
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: "{{ ansible_play_hosts_all | map('extract', hostvars, 'instance_id') }}"
        key_ids: [%s]
      delegate_to: localhost
      run_once: true
"""
    % KEY_ID
)
RECAP_RE = re.compile(r"^\S+\s+: ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def shares(document, nodes):
    """The fleet's instances split into `nodes` static inventories (as job slicing splits an inventory)."""
    instances = document["instances"]
    parts = []
    for node in range(nodes):
        mine = instances[node::nodes]
        hosts = {i["InstanceId"]: {"instance_id": i["InstanceId"], "region": i["Region"]} for i in mine}
        parts.append({"all": {"vars": {"ansible_connection": "local"}, "children": {"fleet": {"hosts": hosts}}}})
    return parts


def start_nodes(emu, document, nodes, folder, collections_path, url=None):
    """Start the nodes' ansible-playbook processes; returns [(process, home)]."""
    folder = Path(folder)
    started = []
    for node, inventory in enumerate(shares(document, nodes)):
        home = folder / ("node%d" % node)
        home.mkdir(parents=True)
        (home / "limits").mkdir(mode=0o700)
        (home / "inventory.json").write_text(json.dumps(inventory))
        (home / "bind.yml").write_text(RUN_ONCE)
        # A short TMPDIR of its own, not one inside `folder`: ansible-core 2.19+ opens a multiprocessing listener socket
        # under it, and a deep pytest folder (xdist adds popen-gwN/) makes that path longer than AF_UNIX's 108 bytes,
        # so the playbook dies with "Local RPC server did not start" before its first request.
        (home / "tmp").symlink_to(tempfile.mkdtemp(prefix="tc-node%d-" % node))
        env = ansible_environment(
            home,
            collections_path,
            emulator=emu,
            TMPDIR=(home / "tmp").resolve(),
            TENCENTCLOUD_CVM_RATE_LIMIT_DIR=home / "limits",
            TENCENTCLOUD_RATE_LIMIT_URL=url,
        )
        cmd = [str(BIN / "ansible-playbook"), "-i", str(home / "inventory.json"), str(home / "bind.yml")]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # pylint: disable=consider-using-with
        started.append((proc, home))
    return started


def finish_nodes(started, timeout=1800):
    """[(rc, output)] of each node, in order."""
    results = []
    for proc, _home in started:
        out, _err = proc.communicate(timeout=timeout)
        results.append((proc.returncode, out))
    return results


def tally(emu, results):
    """What the run did: requests, refused for rate, failed hosts, instances bound, warnings of the nodes."""
    records = emu.requests()["requests"]
    instances = emu.state()["instances"]
    failed = 0
    for rc, out in results:
        recap = RECAP_RE.findall(out)
        failed += sum(1 for unreachable, fails in recap if int(unreachable) or int(fails)) if recap else 1
        failed += 1 if rc and not recap else 0
    refused = sum(1 for r in records if (r.get("error_code") or "").startswith("RequestLimitExceeded"))
    bound = sum(1 for i in instances if KEY_ID in ((i.get("LoginSettings") or {}).get("KeyIds") or []))
    warnings = [line.strip() for _rc, out in results for line in out.splitlines() if "[WARNING]" in line and "rate limit" in line]
    return {
        "requests": len(records),
        "refused": refused,
        "refused_pct": 100.0 * refused / max(1, len(records)),
        "failed": failed,
        "bound": bound,
        "instances": len(instances),
        "warnings": warnings,
        "rcs": [rc for rc, _out in results],
        "failed_output": [out[-1500:] for rc, out in results if rc][:1],
    }


def run_nodes(emu, document, nodes, folder, collections_path, url=None, during=None):
    """Run `nodes` nodes to the end; `during(started)` runs while they work (e.g. kills the Redis server). Returns tally + wall."""
    began = time.monotonic()
    started = start_nodes(emu, document, nodes, folder, collections_path, url)
    try:
        if during is not None:
            during(started)
        results = finish_nodes(started)
    finally:
        for proc, home in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            shutil.rmtree((home / "tmp").resolve(), ignore_errors=True)
    row = tally(emu, results)
    row["wall"] = time.monotonic() - began
    return row

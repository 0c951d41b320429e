# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet rows of ./scripts/bench: one key bound to every host of an inventory, per host or in one task.

Each case starts its own emulator with a fleet (tests/emulator/fleet.py: STOPPED instances, the documented rate
limits, the given operation latency) and runs one ansible-playbook over a static inventory of those instances
(host variables instance_id and region, as the inventory plugin gives them; static, so that older code of the
collection can run the same playbook). Per host: one module process per host, `--forks F`. One task: `run_once`
with the instance IDs of every host of the play. Reported: wall time, requests, requests refused for rate
(RequestLimitExceeded in the emulator's log), failed hosts, and whether every instance ended with the key.

`compare_ref` runs the per-host case once more with the collection as it is at a git ref (e.g. main): the
"before" of the shared rate limit.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

# tests/emulator and tests/support come from PYTHONPATH (scripts/bench).
from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
from fleet import fleet_key_id, fleet_state  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

KEY_ID = fleet_key_id(0)
PER_HOST = """\
- name: "Benchmark: bind the key, one task per host"
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Bind the key to this host's instance
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: ["{{ instance_id }}"]
        region: "{{ region }}"
        key_ids: [%s]
      delegate_to: localhost
""" % KEY_ID
RUN_ONCE = """\
- name: "Benchmark: bind the key to every host of the play in one task"
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Bind the key to the instances of all hosts of the play
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: "{{ ansible_play_hosts_all | map('extract', hostvars, 'instance_id') }}"
        key_ids: [%s]
      delegate_to: localhost
      run_once: true
""" % KEY_ID
RECAP_RE = re.compile(r"^\S+\s+: ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def static_inventory(document):
    hosts = {i["InstanceId"]: {"instance_id": i["InstanceId"], "region": i["Region"]} for i in document["instances"]}
    return {"all": {"vars": {"ansible_connection": "local"}, "children": {"fleet": {"hosts": hosts}}}}


def collection_at(ref, tmp):
    """A collections path with this repository's collection as it is at `ref` (git archive; nothing else is touched)."""
    root = Path(tmp) / ("collection-at-" + re.sub(r"[^A-Za-z0-9_.-]", "_", ref))
    target = root / "ansible_collections" / "tencentcloud" / "cvm"
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return str(root)


def run_case(ctx, label, hosts, forks, pattern, colls=None):
    """One ansible-playbook over a fresh fleet; returns the row. ctx: RUNS, BenchError, latency, tmp, colls."""
    case_tmp = Path(ctx["tmp"]) / ("fleet-" + re.sub(r"[^A-Za-z0-9]+", "-", label).strip("-"))
    case_tmp.mkdir(parents=True)
    document = fleet_state(hosts)
    inventory = case_tmp / "inventory.json"
    inventory.write_text(json.dumps(static_inventory(document)))
    playbook = case_tmp / "bind.yml"
    playbook.write_text(PER_HOST if pattern == "per-host" else RUN_ONCE)
    with EmulatorProcess(state=document, extra_args=["--operation-latency", str(ctx["latency"])]) as emu:
        # The limiter's folder of this case only: no other run on the machine shares its limits.
        env = ansible_environment(case_tmp, colls or ctx["colls"], emulator=emu, TENCENTCLOUD_CVM_RATE_LIMIT_DIR=case_tmp / "limits")
        (case_tmp / "limits").mkdir(mode=0o700)
        cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), "--forks", str(forks)]
        result = ctx["RUNS"].run(cmd, env, 3600)
        records = emu.requests()["requests"]
        instances = emu.state()["instances"]
    recap = RECAP_RE.findall(result.out)
    failed_hosts = sum(1 for unreachable, failed in recap if int(unreachable) or int(failed))
    if not recap:
        raise ctx["BenchError"]("%s: no play recap (rc=%d): %s" % (label, result.rc, result.tail()))
    refused = sum(1 for r in records if (r.get("error_code") or "").startswith("RequestLimitExceeded"))
    bound = sum(1 for i in instances if KEY_ID in ((i.get("LoginSettings") or {}).get("KeyIds") or []))
    return {"label": label, "hosts": hosts, "forks": forks, "pattern": pattern, "wall": result.wall, "rc": result.rc,
            "requests": len(records), "refused": refused, "refused_pct": 100.0 * refused / max(1, len(records)),
            "writes": sum(1 for r in records if r["action"] == "AssociateInstancesKeyPairs"),
            "failed_hosts": failed_hosts, "bound": bound}


def run_fleet(ctx, hosts, forks_list, compare_ref=None, compare_hosts=100, compare_forks=50, log=print):
    rows = []
    for forks in forks_list:
        log("fleet: %d hosts, one task per host, forks %d ..." % (hosts, forks))
        rows.append(run_case(ctx, "per host, forks %d" % forks, hosts, forks, "per-host"))
        log("  " + describe(rows[-1]))
    log("fleet: %d hosts, one run_once task ..." % hosts)
    rows.append(run_case(ctx, "one task (run_once)", hosts, 1, "run_once"))
    log("  " + describe(rows[-1]))
    if compare_ref:
        colls = collection_at(compare_ref, ctx["tmp"])
        for label, path in (("before: %s" % compare_ref, colls), ("after: this checkout", None)):
            log("fleet comparison: %d hosts, per host, forks %d, %s ..." % (compare_hosts, compare_forks, label))
            rows.append(run_case(ctx, "%s, per host, forks %d" % (label, compare_forks), compare_hosts, compare_forks, "per-host", path))
            log("  " + describe(rows[-1]))
    return rows


def describe(row):
    return "%.1f s, %d requests, %d refused for rate (%.1f%%), %d writes, %d/%d bound, %d hosts failed" % (
        row["wall"], row["requests"], row["refused"], row["refused_pct"], row["writes"], row["bound"], row["hosts"], row["failed_hosts"])


def markdown(rows, latency):
    lines = ["## Fleets: per-host tasks against one task", "",
             "Emulator: documented rate limits, operation latency %g s, a fleet of STOPPED instances; a static inventory "
             "with `instance_id` and `region` per host; one key bound to every instance." % latency, "",
             "| case | hosts | forks | wall s | requests | refused for rate | writes | bound | failed hosts |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append("| %s | %d | %d | %.1f | %d | %d (%.1f%%) | %d | %d/%d | %d |" % (
            row["label"], row["hosts"], row["forks"], row["wall"], row["requests"], row["refused"], row["refused_pct"], row["writes"],
            row["bound"], row["hosts"], row["failed_hosts"]))
    return "\n".join(lines) + "\n"

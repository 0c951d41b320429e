# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key_rotation role against the same key changes made directly, side by side, on the emulator's SSH mode.

Each size gets one emulator (--ssh: a real sshd answers for every RUNNING instance) with a fleet of RUNNING Linux instances
bound to the key pair old_key, and the new key pair already there (imported, so both runs log in with the same key). For each
case the fleet's keys are reset (PUT state), then the role runs, then the keys are reset again and the direct changes run:

- "by ID": the role with key_rotation_instance_ids; direct: one bind through the module (force_stop, bind_full_sets), one
  parallel login sweep with the new key only (20 ssh processes at once, the role's default), one unbind through the module;
- "inventory group": the role over the hosts of a tencentcloud.cvm.cvm inventory; direct: as for "by ID";
- "batches of 10%": the role with key_rotation_batch_size 10%; direct: the same three changes per batch of 10%.

Timing never decides anything here; it prints the ratio role / direct per case and writes OUT/results.md (and OUT/chart.png
when matplotlib is installed). Usage (from the repository root, as ./scripts/bench sets PYTHONPATH):

    PYTHONPATH=tests/support:tests/emulator python tests/benchmark/bench_rotation.py --sizes 100,1000 --out bench-results
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

try:  # --chart needs none of these (matplotlib may live in another environment than ansible)
    from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
    from collection_path import collections_path  # pylint: disable=import-error
    from harness import EmulatorProcess  # pylint: disable=import-error
    from ssh_client import LOGIN_USER, new_key  # pylint: disable=import-error
except ImportError:
    if "--chart" not in sys.argv:
        raise

OLD_KEY_ID = "skey-old00001"
NEW_KEY_ID = "skey-new00001"
SSH_EXTRA = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
SWEEP_PARALLEL = 20
ROLE_PLAYS = {
    "api": "- hosts: localhost\n  connection: local\n  gather_facts: false\n  roles: [tencentcloud.cvm.key_rotation]\n",
    "inventory": "- hosts: all\n  gather_facts: false\n  roles: [tencentcloud.cvm.key_rotation]\n",
}
DIRECT_PLAY = """\
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Change the keys
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: "{{ ids }}"
        key_ids: "{{ keys }}"
        state: "{{ wanted }}"
        bind_full_sets: "{{ wanted == 'present' }}"
        force_stop: true
"""
CASES = [("by ID", "api", ""), ("inventory group", "inventory", ""), ("batches of 10%", "api", "10%")]


def log(message):
    print(message, file=sys.stderr, flush=True)


def fleet(size, old_public, new_public):
    instances = [{"InstanceId": "ins-z%07d" % number, "InstanceName": "bench-%04d" % number, "InstanceState": "RUNNING",
                  "OsName": "Debian 12.0 64bit", "Tags": {"fleet": "bench"}, "LoginSettings": {"KeyIds": [OLD_KEY_ID]}}
                 for number in range(1, size + 1)]
    return {"instances": instances, "key_pairs": [{"KeyId": OLD_KEY_ID, "KeyName": "old_key", "PublicKey": old_public},
                                                  {"KeyId": NEW_KEY_ID, "KeyName": "new_key", "PublicKey": new_public}]}


def run(cmd, env):
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=7200, check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s failed (rc %d): %s %s" % (cmd[0], proc.returncode, proc.stdout[-3000:], proc.stderr[-2000:]))
    return time.monotonic() - start


def sweep(addresses, key_path):
    """One parallel login sweep with the new key only: every address must log in."""
    def one(address):
        return subprocess.run(["ssh", "-F", "/dev/null", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
                               "-o", "ControlMaster=no"] + SSH_EXTRA.split() + ["-i", str(key_path), "-l", LOGIN_USER, "--", address, "true"],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=False).returncode
    with ThreadPoolExecutor(max_workers=SWEEP_PARALLEL) as pool:
        failed = [address for address, rc in zip(addresses, pool.map(one, addresses)) if rc != 0]
    if failed:
        raise RuntimeError("the direct sweep could not log in to %d instance(s), e.g. %s" % (len(failed), failed[:3]))


def direct(emu, env, work, ids, batch_size, key_path):
    play = work / "direct.yml"
    play.write_text(DIRECT_PLAY)
    addresses = emu.ssh()["instances"]
    step = max(len(ids) * int(batch_size.rstrip("%")) // 100, 1) if batch_size else len(ids)
    start = time.monotonic()
    for first in range(0, len(ids), step):
        batch = ids[first:first + step]
        for wanted, keys in (("present", [NEW_KEY_ID]), (None, None)):
            if wanted is None:
                sweep([addresses[i]["address"] for i in batch], key_path)
                run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(play), "-e",
                     json.dumps({"ids": batch, "keys": [OLD_KEY_ID], "wanted": "absent"})], env)
            else:
                run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(play), "-e", json.dumps({"ids": batch, "keys": keys, "wanted": wanted})], env)
    return time.monotonic() - start


def role(emu, env, work, mode, batch_size, key_path, new_public):
    play = work / ("role-%s.yml" % mode)
    play.write_text(ROLE_PLAYS[mode])
    variables = {"key_rotation_new_key_name": "new_key", "key_rotation_new_private_key_path": str(key_path),
                 "key_rotation_new_public_key": new_public, "key_rotation_retired_key_names": ["old_key"], "key_rotation_force_stop": True,
                 "key_rotation_ssh_extra_args": SSH_EXTRA, "key_rotation_login_user": LOGIN_USER, "key_rotation_batch_size": batch_size}
    inventory = "localhost,"
    if mode == "api":
        variables["key_rotation_instance_ids"] = [i["InstanceId"] for i in emu.state()["instances"]]
    else:
        inventory = str(work / "fleet.cvm.yml")
        Path(inventory).write_text(textwrap.dedent("""\
            plugin: tencentcloud.cvm.cvm
            endpoint: %s
            regions: [%s]
            strict: true
            compose:
              ansible_user: "'%s'"
            """ % (emu.url, emu.region, LOGIN_USER)))
    return run([str(BIN / "ansible-playbook"), "-i", inventory, str(play), "-e", json.dumps(variables)], env)


def check_rotated(emu, size):
    wrong = [i["InstanceId"] for i in emu.state()["instances"] if i["LoginSettings"]["KeyIds"] != [NEW_KEY_ID]]
    if wrong:
        raise RuntimeError("%d of %d instances not rotated, e.g. %s" % (len(wrong), size, wrong[:3]))


def measure(size, latency, work, colls, cases, done):
    old_path, old_public = new_key(work / "old_key")
    del old_path
    key_path, new_public = new_key(work / "new_key.pem")
    rows = []
    with EmulatorProcess(extra_args=["--ssh", "--operation-latency", str(latency), "--bind-semantics", "add"]) as emu:
        env = ansible_environment(work, colls, emulator=emu, ANSIBLE_FORKS="20")
        state = fleet(size, old_public, new_public)
        ids = [i["InstanceId"] for i in state["instances"]]
        for label, mode, batch_size in [case for case in CASES if case[0] in cases]:
            emu.load_state(state)
            role_seconds = role(emu, env, work, mode, batch_size, key_path, new_public)
            check_rotated(emu, size)
            emu.load_state(state)
            direct_seconds = direct(emu, env, work, ids, batch_size, key_path)
            check_rotated(emu, size)
            row = {"size": size, "case": label, "role": role_seconds, "direct": direct_seconds, "ratio": role_seconds / direct_seconds}
            log("%5d instances, %-16s role %7.1f s, direct %7.1f s, ratio %.2fx" % (size, label, role_seconds, direct_seconds, row["ratio"]))
            rows.append(row)
            done(row)
    return rows


def write_results(rows, out, latency):
    (out / "results.json").write_text(json.dumps({"latency": latency, "rows": rows}, indent=1))
    lines = ["| instances | case | role (s) | direct (s) | ratio role / direct |", "|---|---|---|---|---|"]
    lines += ["| %d | %s | %.1f | %.1f | %.2fx |" % (r["size"], r["case"], r["role"], r["direct"], r["ratio"]) for r in rows]
    (out / "results.md").write_text("Operation latency %.1f s, emulator SSH mode.\n\n%s\n" % (latency, "\n".join(lines)))
    chart(rows, out / "chart.png")


def chart(rows, path):
    try:
        import matplotlib  # pylint: disable=import-outside-toplevel
        matplotlib.use("Agg")
        from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
    except ImportError:
        log("matplotlib is not installed: no chart")
        return
    sizes = sorted({r["size"] for r in rows})
    fig, axes = pyplot.subplots(1, len(sizes), figsize=(5 * len(sizes), 3.6), squeeze=False)
    for axis, size in zip(axes[0], sizes):
        chosen = [r for r in rows if r["size"] == size]
        positions = range(len(chosen))
        axis.bar([p - 0.2 for p in positions], [r["role"] for r in chosen], width=0.4, label="key_rotation role")
        axis.bar([p + 0.2 for p in positions], [r["direct"] for r in chosen], width=0.4, label="direct key changes")
        for position, row in zip(positions, chosen):
            axis.annotate("%.2fx" % row["ratio"], (position, max(row["role"], row["direct"])), ha="center", va="bottom")
        axis.set_ylim(0, 1.15 * max(max(r["role"], r["direct"]) for r in chosen))  # room for the ratios
        axis.set_xlim(-0.7, max(len(chosen), 3) - 0.3)  # bars of one width whatever the number of cases
        axis.set_xticks(list(positions))
        axis.set_xticklabels([r["case"] for r in chosen])
        axis.set_title("%d instances" % size)
        axis.set_ylabel("seconds")
        axis.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="100,1000", help="fleet sizes, comma-separated (default 100,1000)")
    parser.add_argument("--latency", type=float, default=0.5, help="the emulator's operation latency in seconds (default 0.5)")
    parser.add_argument("--out", default="bench-results", help="where results.md, results.json and chart.png go")
    parser.add_argument("--cases", default=",".join(case[0] for case in CASES),
                        help="which cases, comma-separated (default: %s)" % ", ".join(case[0] for case in CASES))
    parser.add_argument("--chart", action="store_true", help="only draw OUT/chart.png from OUT/results.json")
    args = parser.parse_args()
    out = Path(args.out)
    if args.chart:
        chart(json.loads((out / "results.json").read_text())["rows"], out / "chart.png")
        return
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-rotation-") as tmp:
        colls = collections_path(root=tmp)
        for size in [int(s) for s in args.sizes.split(",") if s]:
            work = Path(tmp) / ("size-%d" % size)
            work.mkdir()
            # Written after each case: a long run that is stopped keeps what it measured.
            measure(size, args.latency, work, colls, args.cases.split(","), lambda row: (rows.append(row), write_results(rows, out, args.latency)))
    print((out / "results.md").read_text())


if __name__ == "__main__":
    main()

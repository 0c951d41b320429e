# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cancelling a run in the middle of its writes, as AWX does (SIGTERM to the process group of ansible-playbook).

What must hold: no process of the run is left behind, the operations the API accepted finish on their own,
and a rerun sends exactly the writes still needed, reports them as changed and converges.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_env import BIN  # pylint: disable=import-error
from e2e_support import binding_writes  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

pytestmark = pytest.mark.nondeterministic  # every test here involves faults, concurrency, signals or timing

INSTANCES = 3000
KEY = "skey-k1000004"
KILL_AFTER_WRITES = 8  # of the 30 the run needs (100 instances per write)
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars_files: [ids.yml]
  tasks:
    - name: bind
      tencentcloud.cvm.cvm_keypair_association:
        instance_ids: "{{ ids }}"
        key_ids: [%s]
""" % KEY


def _stat(pid):
    """(parent pid, state, start time) of a process from /proc, or None when it is gone."""
    try:
        fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[0], fields[19]


def process_tree(root):
    """{pid: start time} of root and all its descendants now (start times tell a reused pid apart)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat:
                children.setdefault(stat[0], []).append(int(entry.name))
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        stat = _stat(pid)
        if stat:
            tree[pid] = stat[2]
            todo.extend(children.get(pid, ()))
    return tree


def still_running(tree):
    """The processes of a snapshot that still run (zombies waiting to be reaped do not)."""
    running = []
    for pid, started in tree.items():
        stat = _stat(pid)
        if stat and stat[2] == started and stat[1] != "Z":
            running.append(pid)
    return running


def command_line(pid):
    try:
        return Path("/proc/%d/cmdline" % pid).read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def cancel_mid_run(path, env, log_path, ready, what, module):
    """Run ansible-playbook on `path` in a session of its own; once `ready()` holds (within 300 s) and `module` runs, send
    SIGTERM to the playbook's process group, as AWX does on cancel. Whatever still runs after that (it should be nothing)
    is killed, by id. Returns (the finished playbook process, the process tree seen while it ran)."""
    with open(log_path, "w") as out:
        run = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],  # pylint: disable=consider-using-with
                               env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        tree = {}
        try:
            wait_for(lambda: ready() or run.poll() is not None, 300, what)
            assert run.poll() is None, "the run ended before it could be cancelled"
            # Ansible's workers call setsid(): the module runs in the worker's session, not in the playbook's group.
            tree = process_tree(run.pid)
            assert any(module in command_line(pid) for pid in tree), "the module should be running now"
            os.killpg(run.pid, signal.SIGTERM)  # what AWX does on cancel
            run.wait(60)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGTERM)  # SIGTERM first: ansible passes it on to its workers' sessions
                time.sleep(5)
            for pid in still_running(tree) + ([run.pid] if run.poll() is None else []):
                os.kill(pid, signal.SIGKILL)  # only processes this test started, by id
            run.wait(10)
    return run, tree


def test_sigterm_to_the_process_group_mid_writes_leaves_nothing_behind_and_a_rerun_finishes_the_job(ansible_env, playbook, tmp_path):
    extra = ["--generate-instances", str(INSTANCES), "--operation-latency", "1.0", "--response-latency", "150"]
    with EmulatorProcess(extra_args=extra) as emu:
        ids = emu.generated_instance_ids()
        assert len(ids) == INSTANCES
        (tmp_path / "ids.yml").write_text(json.dumps({"ids": ids}))
        path = tmp_path / "playbook.yml"
        path.write_text(PLAYBOOK)
        env = ansible_env(emu)
        run, tree = cancel_mid_run(path, env, tmp_path / "out.txt",
                                   lambda: sum(w["outcome"] == "ok" for w in binding_writes(emu)) >= KILL_AFTER_WRITES,
                                   "the run never reached its writes", "AnsiballZ_cvm_keypair_association")
        assert run.returncode != 0

        # No worker and no module process of the run is left.
        wait_for(lambda: not still_running(tree), 30, "left behind: %s" % [command_line(pid) for pid in still_running(tree)])

        # Accepted operations finish on the API's side; nothing else was applied.
        emu.wait_idle(timeout=60)
        accepted = {i for w in binding_writes(emu) if w["outcome"] == "ok" for i in w["params"]["InstanceIds"]}
        bound = {i["InstanceId"] for i in emu.state()["instances"] if KEY in ((i.get("LoginSettings") or {}).get("KeyIds") or [])}
        assert bound == accepted
        missing = sorted(set(ids) - bound)
        assert 0 < len(missing) < INSTANCES - KILL_AFTER_WRITES * 100 + 1, "the run was to be cancelled in the middle of its writes"

        seq = emu.requests()["requests"][-1]["seq"]
        emu.configure(faults={"response_latency_ms": 0})
        rc, tasks, out, err = playbook(emu, PLAYBOOK)
        assert rc == 0, out[-3000:] + err[-3000:]
        result = tasks["bind"]
        assert result["changed"] is True
        assert sorted(i["instance_id"] for i in result["instances"] if i["changed"]) == missing
        sent = binding_writes(emu, since=seq)
        assert {w["action"] for w in sent} == {"AssociateInstancesKeyPairs"}
        written = [i for w in sent for i in w["params"]["InstanceIds"]]
        assert sorted(written) == missing  # each missing instance exactly once, nothing else
        assert len(sent) == math.ceil(len(missing) / 100)
        state = {i["InstanceId"]: i for i in emu.state()["instances"]}
        assert all(KEY in (state[i]["LoginSettings"]["KeyIds"] or []) for i in ids)


def test_the_process_tree_check_sees_grandchildren_and_their_end():
    """The leftover check would see a module process: it follows children of children, and sees them end."""
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); time.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)  # pylint: disable=consider-using-with
    try:
        wait_for(lambda: len(process_tree(parent.pid)) == 2, 30, "the grandchild did not start")
        tree = process_tree(parent.pid)
        assert sorted(still_running(tree)) == sorted(tree)
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(10)
        wait_for(lambda: not still_running(tree), 30, "the grandchild outlived the kill")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


CREATE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: create
      tencentcloud.cvm.cvm_keypair:
        name: cancelled_key
        private_key_path: %s
"""
DELETE = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: delete
      tencentcloud.cvm.cvm_keypair:
        name: cancelled_key
        state: absent
"""


def test_a_create_cancelled_before_its_private_key_was_stored_makes_the_rerun_fail_naming_the_fix(ansible_env, playbook, tmp_path):
    key_file = tmp_path / "keys" / "cancelled.pem"
    with EmulatorProcess() as emu:
        path = tmp_path / "create.yml"
        path.write_text(CREATE % key_file)
        emu.configure(faults={"response_latency_ms": 8000})  # every answer waits 8 s (within the read timeout): the run is cancelled while CreateKeyPair's does
        # The emulator logs a request before it waits to answer: once logged, CreateKeyPair has reached the API and taken effect.
        _run, tree = cancel_mid_run(path, ansible_env(emu), tmp_path / "out.txt", lambda: emu.requests()["counts"].get("CreateKeyPair"),
                                    "CreateKeyPair never came", "AnsiballZ_cvm_keypair")
        wait_for(lambda: not still_running(tree), 30, "left behind: %s" % [command_line(pid) for pid in still_running(tree)])
        emu.configure(faults={"response_latency_ms": 0})
        created = [k for k in emu.state()["key_pairs"] if k["KeyName"] == "cancelled_key"]
        assert len(created) == 1 and not key_file.exists()  # the cancelled run's key pair exists, its private key nowhere

        seq = emu.requests()["requests"][-1]["seq"]
        rc, tasks, out, err = playbook(emu, CREATE % key_file)
        result = tasks["create"]
        assert rc != 0 and result.get("failed"), result
        msg = result["msg"]
        assert created[0]["KeyId"] in msg and str(key_file) in msg and "never stored" in msg and "state: absent" in msg, msg
        assert emu.write_count() == 0 or [r for r in emu.requests(since=seq)["requests"] if r["action"] not in ("DescribeKeyPairs",)] == []
        assert not key_file.exists()

        # The fix the message names: delete the key pair, then run again; the new key pair's private key is stored.
        rc, tasks, out, err = playbook(emu, DELETE)
        assert rc == 0 and tasks["delete"]["changed"], out[-2000:] + err[-2000:]
        rc, tasks, out, err = playbook(emu, CREATE % key_file)
        assert rc == 0 and tasks["create"]["changed"], out[-2000:] + err[-2000:]
        assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600
        assert not os.path.lexists(str(key_file) + ".pending")
        rc, tasks, out, err = playbook(emu, CREATE % key_file)
        assert rc == 0 and not tasks["create"]["changed"] and not tasks["create"].get("warnings"), tasks["create"]

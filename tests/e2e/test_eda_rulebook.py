# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rulebook tencentcloud.cvm.keep_keys_right, run by the real ansible-rulebook against the emulator.

Its source (tencentcloud.cvm.cvm_instances) polls every second; its playbook (tencentcloud.cvm.cvm_keys_remediate) binds and
unbinds through the module. Each repair must show in the emulator within REPAIR_BOUND seconds of the change: a bound that
the test waits up to, checked on the emulator's state, not a measured time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from rulebook_setup import ensure_rulebook  # pylint: disable=import-error

from ansible_env import BIN  # pylint: disable=import-error
from e2e_support import read_results  # pylint: disable=import-error

pytestmark = [pytest.mark.slow, pytest.mark.nondeterministic]

REPAIR_BOUND = 30.0
STARTUP_BOUND = 180.0  # the JVM and the rule engine start first; a busy machine takes its time
OPS, DEPLOY, ALICE = "skey-k1000001", "skey-k1000002", "skey-k1000003"
POLICY = {
    "cvm_regions": ["ap-guangzhou"],
    "cvm_filters": {"tag:env": "prod"},
    "cvm_required_keys": ["ops-team"],        # by name: resolved by the source
    "cvm_allowed_keys": [DEPLOY],             # besides the required key
    "cvm_force_stop": False,
    "cvm_poll_interval": 1,
    "cvm_start_with": "changes",
}


@pytest.fixture(scope="module")
def rulebook():
    command, env, reason = ensure_rulebook()
    if command is None:
        pytest.skip(reason)
    return command, env


def _descendants(pid):
    """PIDs of every process below pid (Linux /proc): ansible-runner's playbook runs, which may have sessions of their own."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, encoding="utf-8") as handle:
                    children.setdefault(int(handle.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.append(child)
            todo.append(child)
    return found


class RulebookRun:
    """ansible-rulebook in a session of its own; stop() ends it and every process it started, also when the test fails."""

    def __init__(self, command, env, workdir, rulebook="tencentcloud.cvm.keep_keys_right"):
        self.log_path = workdir / "rulebook.log"
        inventory = workdir / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        variables = workdir / "policy.yml"
        variables.write_text(yaml.safe_dump(POLICY))
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                command + ["-r", rulebook, "-i", str(inventory), "--vars", str(variables), "-v"],
                env=env, cwd=str(workdir), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self):
        pids = [self.process.pid] + _descendants(self.process.pid)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                self.process.wait(15)
                break
            except subprocess.TimeoutExpired:
                continue
        for pid in pids[1:]:  # children killed above may still be exiting
            for _attempt in range(50):
                if not os.path.exists("/proc/%d" % pid):
                    break
                time.sleep(0.1)


def wait_for(what, predicate, bound, run):
    """Poll predicate until true; fail naming `what` (with the rulebook's log) when it is not true within `bound` seconds."""
    deadline = time.monotonic() + bound
    while not predicate():
        if run.process.poll() is not None:
            raise AssertionError("ansible-rulebook ended (rc=%s) before %s:\n%s" % (run.process.returncode, what, run.log()[-6000:]))
        if time.monotonic() > deadline:
            raise AssertionError("not within %d s: %s\n%s" % (bound, what, run.log()[-6000:]))
        time.sleep(0.25)


def describe_count(emu):
    return emu.counts().get("DescribeInstances", 0)


def keys_of(emu, instance_id):
    return sorted(emu.instance(instance_id)["LoginSettings"]["KeyIds"] or [])


def remediate_again(emu, ansible_env, event, tmp_path):
    """Run the remediation playbook once more, by hand, with an event that was already repaired."""
    env = ansible_env(emu)
    extra = tmp_path / "event.json"
    extra.write_text(json.dumps({"ansible_eda": {"event": event}}))
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "tencentcloud.cvm.cvm_keys_remediate",
                           "-e", "@%s" % extra], env=env, capture_output=True, text=True, timeout=600, check=False)
    return proc, read_results(proc, env)


def test_rulebook_binds_new_instances_and_repairs_drift(emulator, ansible_env, rulebook, tmp_path):
    command, extra_env = rulebook
    env = ansible_env(emulator, dict(extra_env, PATH=str(BIN) + os.pathsep + os.environ.get("PATH", "")))
    run = RulebookRun(command, env, tmp_path)
    try:
        # The source's first poll remembers the fleet silently (start_with: changes); changes count from the second.
        wait_for("the source's second poll", lambda: describe_count(emulator) >= 2, STARTUP_BOUND, run)

        emulator.add_instance({"InstanceId": "ins-e0000001", "InstanceState": "STOPPED", "Tags": {"env": "prod"}})
        emulator.add_instance({"InstanceId": "ins-e0000002", "InstanceState": "STOPPED", "Tags": {"env": "dev"}})
        wait_for("the ops key bound to the new production instance", lambda: keys_of(emulator, "ins-e0000001") == [OPS], REPAIR_BOUND, run)
        emulator.wait_idle(30)

        emulator.set_instance_keys("ins-e0000001", [OPS, ALICE, DEPLOY])  # by hand: alice's key is not allowed, deploy's is
        wait_for("alice's key unbound again", lambda: keys_of(emulator, "ins-e0000001") == sorted([OPS, DEPLOY]), REPAIR_BOUND, run)
        emulator.wait_idle(30)

        # Nothing more to do: further polls send no write.
        writes = emulator.write_count()
        polls = describe_count(emulator)
        wait_for("three more polls", lambda: describe_count(emulator) >= polls + 3, 60, run)
        assert emulator.write_count() == writes
        assert keys_of(emulator, "ins-e0000002") == []  # not production: never touched

        # A region that cannot be read is reported, backed off and read again; the source keeps going.
        emulator.configure(faults={"internal_error": 1.0})
        wait_for("a poll failure reported", lambda: "Retrying in" in run.log(), 60, run)
        emulator.configure(faults={"internal_error": 0.0})
        emulator.add_instance({"InstanceId": "ins-e0000003", "InstanceState": "STOPPED", "Tags": {"env": "prod"}})
        wait_for("the ops key bound after the failures", lambda: keys_of(emulator, "ins-e0000003") == [OPS], REPAIR_BOUND, run)
        emulator.wait_idle(30)
    finally:
        run.stop()
    log = run.log()
    assert "Failed to read the instances of region ap-guangzhou: " in log and "(InternalError)" in log
    assert emulator.secret_key not in log
    refused = [r for r in emulator.requests()["requests"] if r["error_code"] == "RequestLimitExceeded"]
    assert refused == []

    # A rerun of the playbook with an event it already repaired changes nothing.
    event = {"cvm_instance": {"instance_id": "ins-e0000001", "region": "ap-guangzhou", "policy": {
        "compliant": False, "missing_key_ids": [OPS], "unexpected_key_ids": [ALICE]}}}
    writes = emulator.write_count()
    proc, results = remediate_again(emulator, ansible_env, event, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [r["result"].get("changed") for r in results] == [False, False, False]  # the check of the event's IDs, then both steps
    assert emulator.write_count() == writes


# A rulebook as a user may write it: its playbook says which instance it repairs (by name and tags), then repairs it.
HOSTILE_RULEBOOK = """
- name: Keep keys right and say so
  hosts: localhost
  sources:
    - tencentcloud.cvm.cvm_instances:
        regions: "{{ cvm_regions }}"
        filters: "{{ cvm_filters }}"
        required_keys: "{{ cvm_required_keys }}"
        interval: "{{ cvm_poll_interval }}"
        start_with: "{{ cvm_start_with }}"
  rules:
    - name: Repair and report
      condition: event.cvm_instance.policy.compliant == false
      action:
        run_playbook:
          name: %s
"""
REPORTING_PLAYBOOK = """
- name: Say which instance is repaired
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Report it
      ansible.builtin.debug:
        msg: "Repairing {{ ansible_eda.event.cvm_instance.instance_name }} {{ ansible_eda.event.cvm_instance.tags }}"

- name: Repair it
  ansible.builtin.import_playbook: tencentcloud.cvm.cvm_keys_remediate
"""


def test_a_hostile_instance_name_and_tags_never_run_through_the_rulebook(emulator, ansible_env, rulebook, tmp_path):
    """The real ansible-rulebook passes the source's event to playbooks as extra vars, which Ansible renders as templates:
    an instance named and tagged with a lookup that creates a file must be repaired, and the file must never appear."""
    command, extra_env = rulebook
    marker = tmp_path / "marker"
    touch = "{{ lookup('ansible.builtin.pipe', 'touch %s_%%s') }}" % marker
    playbook = tmp_path / "report_and_repair.yml"
    playbook.write_text(REPORTING_PLAYBOOK)
    rules = tmp_path / "hostile_rulebook.yml"
    rules.write_text(HOSTILE_RULEBOOK % playbook)
    env = ansible_env(emulator, dict(extra_env, PATH=str(BIN) + os.pathsep + os.environ.get("PATH", "")))
    run = RulebookRun(command, env, tmp_path, rulebook=str(rules))
    try:
        wait_for("the source's second poll", lambda: describe_count(emulator) >= 2, STARTUP_BOUND, run)
        emulator.add_instance({"InstanceId": "ins-e0000009", "InstanceState": "STOPPED", "InstanceName": touch % "name",
                               "Tags": {"env": "prod", "role": touch % "tag"}})
        wait_for("the ops key bound to the hostile instance", lambda: keys_of(emulator, "ins-e0000009") == [OPS], REPAIR_BOUND, run)
        emulator.wait_idle(30)
        wait_for("the playbook run ended", lambda: "PLAY RECAP" in run.log(), REPAIR_BOUND, run)
    finally:
        run.stop()
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("marker")) == [], run.log()[-6000:]
    assert "Repairing { { lookup(" in run.log()

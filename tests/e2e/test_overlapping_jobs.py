# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two ansible-playbook runs at once on overlapping instances: one binds key A, the other key B with force_stop.

The overlap is made certain, not left to timing: the emulator holds the first run's operations (hold_operations)
until the second run has met them (OperationDenied.InstanceOperationInProgress in the request log). Released at
once, both runs succeed; held past the second run's retries, that run fails saying another operation is running,
and a rerun finishes its job. Either way the end state holds both keys and each rerun sends no write.
"""

from __future__ import annotations

import subprocess
import textwrap
import time
from collections import Counter

import pytest

from ansible_env import BIN  # pylint: disable=import-error
from e2e_support import binding_writes, read_results  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

pytestmark = pytest.mark.nondeterministic  # every test here involves faults, concurrency, signals or timing

KEY_A, KEY_B = "skey-k1000003", "skey-k1000004"
SHARED = ["ins-s%07d" % n for n in range(1, 151)]       # STOPPED, wanted by both runs
ONLY_A = ["ins-t%07d" % n for n in range(1, 51)]        # STOPPED
ONLY_B = ["ins-r%07d" % n for n in range(1, 51)]        # RUNNING: run B needs force_stop for these
BUSY = "OperationDenied.InstanceOperationInProgress"


def world():
    instances = [{"InstanceId": i, "InstanceState": "STOPPED"} for i in SHARED + ONLY_A]
    instances += [{"InstanceId": i, "InstanceState": "RUNNING"} for i in ONLY_B]
    return {"instances": instances, "key_pairs": [{"KeyId": KEY_A, "KeyName": "alice"}, {"KeyId": KEY_B, "KeyName": "bob"}]}


def task(key, ids, force_stop):
    return textwrap.dedent("""
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: bind
              tencentcloud.cvm.cvm_keypair_association:
                instance_ids: %s
                key_ids: [%s]
                force_stop: %s
        """) % (sorted(ids), key, str(force_stop).lower())


PLAY_A = task(KEY_A, SHARED + ONLY_A, False)
PLAY_B = task(KEY_B, SHARED + ONLY_B, True)


class Run:
    """An ansible-playbook run in the background."""

    def __init__(self, ansible_env, emu, tmp_path, name, text):
        path = tmp_path / ("%s.yml" % name)
        path.write_text(text)
        self.env = ansible_env(emu)
        self.out = open(tmp_path / ("%s.out" % name), "w+")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)],  # pylint: disable=consider-using-with
                                     env=self.env, stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def finish(self, timeout=300):
        try:
            self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                self.proc.wait(30)
        self.out.seek(0)
        output = self.out.read()
        self.out.close()
        return self.proc.returncode, read_results(self.proc, self.env)[-1]["result"], output


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def ok_writes(emu, key):
    return [w for w in binding_writes(emu) if w["outcome"] == "ok" and w["params"]["KeyIds"] == [key]]


def busy_answers(emu, key):
    return [w for w in binding_writes(emu) if w["error_code"] == BUSY and w["params"]["KeyIds"] == [key]]


def start_overlapping(ansible_env, emu, tmp_path):
    """Run A's writes are accepted and held OPERATING; run B starts and meets them."""
    emu.configure(hold_operations=True)
    run_a = Run(ansible_env, emu, tmp_path, "a", PLAY_A)
    wait_for(lambda: len(ok_writes(emu, KEY_A)) == 2 or run_a.proc.poll() is not None, 120, "run A never wrote")
    run_b = Run(ansible_env, emu, tmp_path, "b", PLAY_B)
    wait_for(lambda: busy_answers(emu, KEY_B) or run_b.proc.poll() is not None, 120, "run B never met run A's operations")
    return run_a, run_b


def assert_end_state_and_quiet_reruns(emu, playbook):
    emu.wait_idle(timeout=60)
    state = {i["InstanceId"]: i for i in emu.state()["instances"]}
    keys = {i: sorted((state[i].get("LoginSettings") or {}).get("KeyIds") or []) for i in state}
    assert all(keys[i] == [KEY_A, KEY_B] for i in SHARED)
    assert all(keys[i] == [KEY_A] for i in ONLY_A)
    assert all(keys[i] == [KEY_B] and state[i]["InstanceState"] == "RUNNING" for i in ONLY_B)  # force_stop started them again
    for text in (PLAY_A, PLAY_B):
        seq = emu.requests()["requests"][-1]["seq"]
        rc, tasks, out, err = playbook(emu, text)
        assert rc == 0 and tasks["bind"]["changed"] is False, out[-2000:] + err[-2000:]
        assert binding_writes(emu, since=seq) == []


@pytest.mark.slow
def test_two_overlapping_runs_both_succeed_and_the_end_holds_both_keys(ansible_env, playbook, tmp_path):
    with EmulatorProcess(state=world(), extra_args=["--operation-latency", "0.5"]) as emu:
        run_a, run_b = start_overlapping(ansible_env, emu, tmp_path)
        emu.configure(hold_operations=False)  # run A's operations end; run B's next attempt gets through
        rc_a, result_a, out_a = run_a.finish()
        rc_b, result_b, out_b = run_b.finish()
        assert rc_a == 0 and result_a["changed"], out_a[-3000:]
        assert rc_b == 0 and result_b["changed"], out_b[-3000:]
        assert busy_answers(emu, KEY_B), "the runs were meant to overlap"
        assert len(ok_writes(emu, KEY_A)) == 2 and len(ok_writes(emu, KEY_B)) == 2
        assert_end_state_and_quiet_reruns(emu, playbook)


@pytest.mark.slow
def test_a_run_blocked_past_its_retries_says_another_operation_is_running_and_a_rerun_finishes(ansible_env, playbook, tmp_path):
    with EmulatorProcess(state=world(), extra_args=["--operation-latency", "0.5"]) as emu:
        run_a, run_b = start_overlapping(ansible_env, emu, tmp_path)
        rc_b, result_b, out_b = run_b.finish()  # run A's operations stay held through all of run B's retries
        emu.configure(hold_operations=False)
        rc_a, result_a, out_a = run_a.finish()
        assert rc_a == 0 and result_a["changed"], out_a[-3000:]

        assert rc_b != 0 and result_b["failed"]
        msg = result_b["msg"]
        assert msg.startswith("Failed to change the key pairs (0 instances were changed before the failure): "), msg
        assert "(%s). Gave up after 10 attempts in " % BUSY in msg
        assert "Another operation is running on the instance" in msg and "run again" in msg
        assert result_b["error"]["code"] == BUSY and result_b["error"]["request_id"] in msg
        # Run B's two writes (100 instances each) went out together; each was tried ten times, then the run gave up.
        attempts = Counter(tuple(w["params"]["InstanceIds"]) for w in busy_answers(emu, KEY_B))
        assert sorted(attempts.values()) == [10, 10]
        assert sorted(i for ids in attempts for i in ids) == sorted(SHARED + ONLY_B)
        assert ok_writes(emu, KEY_B) == [] and result_b["changed"] is False

        seq = emu.requests()["requests"][-1]["seq"]
        rc, tasks, out, err = playbook(emu, PLAY_B)
        assert rc == 0 and tasks["bind"]["changed"], out[-3000:] + err[-3000:]
        assert sorted(i for w in binding_writes(emu, since=seq) for i in w["params"]["InstanceIds"]) == sorted(SHARED + ONLY_B)
        assert_end_state_and_quiet_reruns(emu, playbook)

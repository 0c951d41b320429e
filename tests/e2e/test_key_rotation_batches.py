# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The key_rotation role's rolling rotation: batches keep the fleet up, a failing batch stops the rollout, nobody is locked out.

Real role runs (ansible-playbook) against the emulator in SSH mode (a real sshd per instance), under both readings of the bind.
How many instances were down at once is the emulator's own count (GET /_emulator/stops), not a timing."""

from __future__ import annotations

import re
import threading

import pytest

import rotation_support
from rotation_support import API_PLAY, INVENTORY_PLAY, OLD_KEY_ID, address, fleet_ids, new_key_ids, report_of, role_vars
from ssh_client import login, new_key  # pylint: disable=import-error
from ssh_fleet import requires_sshd, run_playbook, ssh_emulator, write_inventory

pytestmark = requires_sshd

SIZE = 6
IDS = fleet_ids(SIZE, "b")


def fleet(emu, old_public):
    emu.load_state(rotation_support.fleet_state(SIZE, old_public, "b", "batch"))


def requests_of(emu, action):
    return [r["params"]["InstanceIds"] for r in emu.requests()["requests"] if r["action"] == action]


class LockoutWatcher(threading.Thread):
    """Logs in to every instance again and again until stopped, first with the old key, then, where the old key is refused,
    with the new key. Counts each round's outcome per instance: "old" or "new" (a key logged in), "down" (nothing listens:
    stopped), "other" (the connection broke, as when an instance stops mid-login), and "lockout": sshd answered and refused
    both keys, the moment the role must never cause."""

    def __init__(self, emu, old_file, new_file):
        super().__init__(daemon=True)
        self.addresses = [address(emu, instance_id) for instance_id in IDS]
        self.keys = (old_file, new_file)
        self.counts = {"old": 0, "new": 0, "down": 0, "other": 0, "lockout": 0}
        self.lockouts = []
        self.done = threading.Event()

    def outcome(self, host):
        old = login(host, self.keys[0], command="true", timeout=20)
        if old.ok:
            return "old"
        if old.unreachable:
            return "down"
        if not old.refused:
            return "other"
        new = login(host, self.keys[1], command="true", timeout=20)
        if new.ok:
            return "new"
        if new.refused:
            return "lockout"
        return "down" if new.unreachable else "other"

    def run(self):
        while True:  # at least one full round, however soon it is stopped
            for host in self.addresses:
                result = self.outcome(host)
                self.counts[result] += 1
                if result == "lockout":
                    self.lockouts.append(host)
            if self.done.is_set():
                return


@pytest.mark.slow
@pytest.mark.nondeterministic
@pytest.mark.parametrize("semantics", ["add", "replace"])
def test_batches_stop_one_batch_at_a_time_lock_nobody_out_and_a_rerun_changes_nothing(semantics, ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    new_file, new_public = new_key(tmp_path / "new_key.pem")
    with ssh_emulator(semantics, "--fault-key-injection", "ins-b0000004") as emu:
        fleet(emu, old_public)
        inventory = write_inventory(tmp_path, emu, filters={"tag:fleet": "rotation"})
        extra = role_vars(tmp_path, key_rotation_new_public_key=new_public, key_rotation_batch_size="34%",
                          key_rotation_fail_on_unrotated=False)
        watcher = LockoutWatcher(emu, old_file, new_file)
        watcher.start()
        try:
            rc, records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, INVENTORY_PLAY, inventory, extra_vars=extra)
        finally:
            watcher.done.set()
            watcher.join(timeout=120)
        assert rc == 0, stdout[-4000:] + stderr[-2000:]

        # 34% of 6 is 3 (rounded up): two batches, each bound, checked and unbound before the next.
        assert requests_of(emu, "AssociateInstancesKeyPairs") == [IDS[:3], IDS[3:]]
        assert requests_of(emu, "DisassociateInstancesKeyPairs") == [IDS[:3], [i for i in IDS[3:] if i != "ins-b0000004"]]
        stops = emu.stops()
        assert stops["force_stopped"] == 2 * SIZE - 1, stops  # a bind and an unbind each, but no unbind where the key never arrived
        assert stops["max_stopped_at_once"] == 3, stops  # one batch at a time, never more
        assert stops["stopped_now"] == []
        progress = re.findall(r"Key rotation batch (\d) of (\d): rotated (\d+),\s+failed (\d+) so far", stdout)
        assert progress == [("1", "2", "3", "0"), ("2", "2", "5", "1")], stdout[-4000:]

        new = new_key_ids(emu)
        assert {i: emu.key_ids(i) for i in IDS} == {i: sorted([OLD_KEY_ID] + new) if i == "ins-b0000004" else new for i in IDS}
        assert login(address(emu, "ins-b0000004"), old_file).ok
        report = {entry["instance_id"]: entry for entry in report_of(records)}
        assert [report[i]["batch"] for i in IDS] == [1, 1, 1, 2, 2, 2]
        assert [report[i]["rotated"] for i in IDS] == [i != "ins-b0000004" for i in IDS]

        assert watcher.lockouts == [], watcher.counts
        assert sum(watcher.counts.values()) >= SIZE, watcher.counts

        writes = emu.write_count()
        rc, _records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, INVENTORY_PLAY, inventory, extra_vars=extra)
        assert rc == 0, stdout[-4000:] + stderr[-2000:]
        changed = [int(count) for count in re.findall(r"changed=(\d+)", stdout)]
        # ins-b0000004 still has its old key: the rerun binds nothing new there, only its login fails again.
        assert emu.write_count() == writes
        assert changed and set(changed) == {0}, stdout[-3000:]


@pytest.mark.slow
@pytest.mark.nondeterministic
@pytest.mark.parametrize("semantics", ["add", "replace"])
def test_a_batch_failing_more_than_the_threshold_stops_the_rollout_and_later_batches_are_never_written(semantics, ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    new_file, new_public = new_key(tmp_path / "new_key.pem")
    with ssh_emulator(semantics, "--fault-key-injection", "ins-b0000002") as emu:
        fleet(emu, old_public)
        extra = role_vars(tmp_path, key_rotation_instance_ids=IDS, key_rotation_new_public_key=new_public, key_rotation_batch_size=2,
                          key_rotation_max_fail_percentage=49)
        rc, records, stdout, _stderr = run_playbook(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra_vars=extra)
        assert rc != 0

        # One of the first batch's two logins failed (50% > 49%): batches 2 and 3 were never sent.
        assert requests_of(emu, "AssociateInstancesKeyPairs") == [IDS[:2]]
        assert requests_of(emu, "DisassociateInstancesKeyPairs") == [IDS[:1]]
        assert emu.stops()["max_stopped_at_once"] == 2
        new = new_key_ids(emu)
        assert emu.key_ids(IDS[0]) == new
        assert emu.key_ids(IDS[1]) == sorted([OLD_KEY_ID] + new)  # its key injection failed: the old key stays, and logs in
        assert login(address(emu, IDS[1]), old_file).ok and login(address(emu, IDS[1]), new_file).refused
        for instance_id in IDS[2:]:
            assert emu.key_ids(instance_id) == [OLD_KEY_ID]
            assert login(address(emu, instance_id), old_file).ok

        report = {entry["instance_id"]: entry for entry in report_of(records)}
        assert [report[i]["rotated"] for i in IDS] == [True] + [False] * 5
        assert report[IDS[1]]["reason"].startswith("logging in with the new key failed")
        for instance_id in IDS[2:]:
            assert report[instance_id]["reason"].startswith("not attempted: the rollout stopped after batch 1 of 3, where 1 of 2 logins "
                                                            "failed (more than the 49% key_rotation_max_fail_percentage allows)"), report
        progress = re.findall(r"Key rotation batch (\d) of (\d): rotated (\d+),\s+failed (\d+) so far(; the rollout stopped)?", stdout)
        # The halting batch's own line says so, and no later batch has one.
        assert progress == [("1", "3", "1", "1", "; the rollout stopped")], stdout[-4000:]
        failure = [line for line in stdout.splitlines() if "did not complete on 5 instance(s)" in line]
        assert failure and "not attempted" in failure[0], stdout[-4000:]

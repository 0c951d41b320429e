# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role tencentcloud.cvm.key_rotation end to end, against a fleet of emulated instances that answer real SSH.

Each fleet is RUNNING Linux instances tagged fleet=rotation, all bound to the key pair old_key, whose private key the
test holds. The role must leave every instance with a key that logs in, whatever fails."""

from __future__ import annotations

import re

import pytest

import rotation_support
from rotation_support import API_PLAY, INVENTORY_PLAY, OLD_KEY_ID, address, fleet_ids, new_key_ids, report_of, role_vars
from ssh_client import login, new_key  # pylint: disable=import-error
from ssh_fleet import requires_sshd, run_playbook, ssh_emulator, write_inventory

pytestmark = requires_sshd


def fleet_state(size, old_public_key):
    return rotation_support.fleet_state(size, old_public_key, "r", "rot")


def fleet(emu, size, old_public_key):
    emu.load_state(fleet_state(size, old_public_key))
    return fleet_ids(size, "r")


def changed_counts(stdout):
    return [int(count) for count in re.findall(r"changed=(\d+)", stdout)]


def new_key_id(emu):
    return new_key_ids(emu)[0]


@pytest.mark.slow
@pytest.mark.nondeterministic
def test_rotates_a_fleet_of_24_with_batched_calls_and_a_second_run_changes_nothing(ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    with ssh_emulator("add") as emu:
        ids = fleet(emu, 24, old_public)
        inventory = write_inventory(tmp_path, emu, filters={"tag:fleet": "rotation"})
        rc, records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, INVENTORY_PLAY, inventory, extra_vars=role_vars(tmp_path))
        assert rc == 0, stdout[-4000:] + stderr[-2000:]
        new = new_key_id(emu)
        assert {instance_id: emu.key_ids(instance_id) for instance_id in ids} == {instance_id: [new] for instance_id in ids}
        counts = emu.requests()["counts"]
        assert counts["AssociateInstancesKeyPairs"] == 1 and counts["DisassociateInstancesKeyPairs"] == 1, counts
        report = report_of(records)
        assert [(e["instance_id"], e["rotated"]) for e in report] == [(i, True) for i in ids]
        for instance_id in (ids[0], ids[11], ids[-1]):
            assert login(address(emu, instance_id), tmp_path / "new_key.pem").ok
            assert login(address(emu, instance_id), old_file).refused

        writes = emu.write_count()
        rc, _records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, INVENTORY_PLAY, inventory, extra_vars=role_vars(tmp_path))
        assert rc == 0, stdout[-4000:] + stderr[-2000:]
        assert emu.write_count() == writes
        assert changed_counts(stdout) and set(changed_counts(stdout)) == {0}, stdout[-3000:]


@pytest.mark.slow
@pytest.mark.nondeterministic
@pytest.mark.parametrize("semantics", ["add", "replace"])
def test_a_host_whose_new_key_never_arrives_keeps_its_old_key_and_is_named(semantics, ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    with ssh_emulator(semantics, "--fault-key-injection", "ins-r0000003") as emu:
        ids = fleet(emu, 5, old_public)
        inventory = write_inventory(tmp_path, emu, filters={"tag:fleet": "rotation"})
        rc, _records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, INVENTORY_PLAY, inventory, extra_vars=role_vars(tmp_path))
        assert rc != 0
        failure = [line for line in stdout.splitlines() if "did not complete on 1 instance" in line]
        assert failure and "ins-r0000003" in failure[0] and "ins-r0000001" not in failure[0], stdout[-4000:]
        new = new_key_id(emu)
        assert emu.key_ids("ins-r0000003") == sorted([OLD_KEY_ID, new])
        assert login(address(emu, "ins-r0000003"), old_file).ok
        for instance_id in ids:
            if instance_id != "ins-r0000003":
                assert emu.key_ids(instance_id) == [new]
        # Every bind sent the whole key set: under replace semantics the old key never left any instance before the check.
        binds = [r["params"]["KeyIds"] for r in emu.requests()["requests"] if r["action"] == "AssociateInstancesKeyPairs"]
        assert binds and all(OLD_KEY_ID in keys for keys in binds), binds
        unbinds = [r["params"]["InstanceIds"] for r in emu.requests()["requests"] if r["action"] == "DisassociateInstancesKeyPairs"]
        assert unbinds == [[i for i in ids if i != "ins-r0000003"]]


@pytest.mark.slow
@pytest.mark.nondeterministic
def test_an_api_failure_midway_leaves_every_instance_a_working_key_and_a_rerun_finishes(ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    with ssh_emulator("replace") as emu:
        ids = fleet(emu, 4, old_public)
        emu.configure(operation_failures={"ins-r0000002": "Failed to write the public key (injected)."})
        extra = role_vars(tmp_path, key_rotation_instance_filters={"tag:fleet": "rotation"})
        rc, _records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra_vars=extra)
        assert rc != 0 and "No retired key was unbound" in stdout, stdout[-4000:]
        for instance_id in ids:
            assert OLD_KEY_ID in emu.key_ids(instance_id)
            assert login(address(emu, instance_id), old_file).ok

        emu.configure(operation_failures={"ins-r0000002": None})
        rc, _records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra_vars=extra)
        assert rc == 0, stdout[-4000:] + stderr[-2000:]
        new = new_key_id(emu)
        for instance_id in ids:
            assert emu.key_ids(instance_id) == [new]
            assert login(address(emu, instance_id), old_file).refused
        assert login(address(emu, ids[1]), tmp_path / "new_key.pem").ok


def test_instances_by_id_a_stopped_one_is_left_alone_and_reported(ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    with ssh_emulator("add") as emu:
        state = fleet_state(3, old_public)
        state["instances"][2]["InstanceState"] = "STOPPED"
        emu.load_state(state)
        ids = [instance["InstanceId"] for instance in state["instances"]]
        extra = role_vars(tmp_path, key_rotation_instance_ids=ids, key_rotation_fail_on_unrotated=False)
        rc, records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra_vars=extra)
        assert rc == 0, stdout[-4000:] + stderr[-2000:]
        new = new_key_id(emu)
        assert [emu.key_ids(instance_id) for instance_id in ids] == [[new], [new], [OLD_KEY_ID]]
        report = {entry["instance_id"]: entry for entry in report_of(records)}
        assert [report[i]["rotated"] for i in ids] == [True, True, False]
        assert "STOPPED" in report[ids[2]]["reason"]
        assert login(address(emu, ids[0]), tmp_path / "new_key.pem").ok and login(address(emu, ids[0]), old_file).refused

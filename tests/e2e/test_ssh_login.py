# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The outcome users bind keys for: logging in. The modules change bindings; the real ssh client and Ansible's ssh
connection, with hosts from the inventory plugin, then log in to the emulator's SSH-mode instances (or are refused).
Every test runs under both readings of a bind (it adds keys, or it replaces the instance's keys).

Seed (docs/emulator.md): ins-a1000001 web-1 RUNNING with skey-k1000001; ins-a1000002 web-2 RUNNING, no key;
ins-a1000004 batch-1 STOPPED, no key.
"""

from __future__ import annotations

import pytest

from ssh_client import login, new_key  # pylint: disable=import-error
from ssh_fleet import by_host, requires_sshd, run_playbook, ssh_emulator, write_inventory

pytestmark = [requires_sshd, pytest.mark.nondeterministic, pytest.mark.parametrize("semantics", ["add", "replace"])]

KEYPAIR = "tencentcloud.cvm.cvm_keypair"
ASSOCIATION = "tencentcloud.cvm.cvm_keypair_association"
PING_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - name: ping over ssh
      ansible.builtin.ping:
"""


def import_key(adhoc, emu, tmp_path, name):
    path, public = new_key(tmp_path / name, name)
    result = adhoc(emu, {"name": name, "public_key": public}, module=KEYPAIR)
    assert not result.failed, result.result
    return result.result["key_pair"]["key_id"], path


def bind(adhoc, emu, instance_ids, key_ids, **options):
    result = adhoc(emu, dict({"instance_ids": instance_ids, "key_ids": key_ids}, **options))
    assert not result.failed, result.result
    return result


def address(emu, instance_id):
    return emu.ssh()["instances"][instance_id]["address"]


def test_key_made_by_cvm_keypair_logs_in_to_a_host_of_the_inventory_until_unbound(semantics, adhoc, ansible_env, tmp_path):
    with ssh_emulator(semantics) as emu:
        key_file = tmp_path / "made.key"
        made = adhoc(emu, {"name": "made_key", "private_key_path": str(key_file)}, module=KEYPAIR)
        assert made.changed and not made.failed, made.result
        assert "PRIVATE KEY" not in made.stdout
        key_id = made.result["key_pair"]["key_id"]
        bind(adhoc, emu, ["ins-a1000002"], [key_id], force_stop=True)

        inventory = write_inventory(tmp_path, emu, filters={"instance-id": "ins-a1000002"})
        rc, records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, PING_PLAY, inventory,
                                                   extra_vars={"ansible_ssh_private_key_file": str(key_file)})
        pinged = by_host(records, "ping over ssh")
        assert rc == 0 and pinged["ins-a1000002"]["status"] == "ok", stdout + stderr
        assert pinged["ins-a1000002"]["result"]["ping"] == "pong"
        assert login(address(emu, "ins-a1000002"), key_file).ok

        bind(adhoc, emu, ["ins-a1000002"], [key_id], state="absent", force_stop=True)
        # Without pipelining: a pipelined task writes the module to ssh's stdin, and when ssh has just quit on the
        # refusal, ansible-core reports ssh's own "Permission denied" only if the process has exited within 1 ms of the
        # failed write, else "Data could not be sent ... Broken pipe" (the flake hunt saw it 1 run in 20). Unpipelined,
        # the first step is a command with no input, so the refusal is always reported with ssh's message.
        rc, records, stdout, stderr = run_playbook(ansible_env, emu, tmp_path, PING_PLAY, inventory,
                                                   extra_vars={"ansible_ssh_private_key_file": str(key_file)},
                                                   env={"ANSIBLE_PIPELINING": "0"})
        assert rc != 0 and by_host(records, "ping over ssh")["ins-a1000002"]["status"] == "unreachable", stdout + stderr
        assert "Permission denied" in by_host(records, "ping over ssh")["ins-a1000002"]["result"]["msg"]
        assert login(address(emu, "ins-a1000002"), key_file).refused


def test_exclusive_leaves_exactly_the_listed_keys_able_to_log_in(semantics, adhoc, tmp_path):
    with ssh_emulator(semantics) as emu:
        keys = dict(import_key(adhoc, emu, tmp_path, name) for name in ("k_one", "k_two", "k_three"))
        one, two, three = list(keys)
        bind(adhoc, emu, ["ins-a1000001"], [one, two], force_stop=True)
        bind(adhoc, emu, ["ins-a1000001"], [two, three], exclusive=True, force_stop=True)
        assert emu.key_ids("ins-a1000001") == sorted([two, three])
        ip = address(emu, "ins-a1000001")
        outcome = {key_id: login(ip, path) for key_id, path in keys.items()}
        assert outcome[two].ok and outcome[three].ok, outcome
        assert outcome[one].refused, outcome
        assert login(ip, keys[two], command="true").ok


def test_instance_stopped_by_force_stop_comes_back_and_accepts_the_new_key_but_no_unbound_key(semantics, adhoc, tmp_path):
    with ssh_emulator(semantics) as emu:
        new, new_file = import_key(adhoc, emu, tmp_path, "fresh_key")
        _other, other_file = import_key(adhoc, emu, tmp_path, "never_bound")
        ip = address(emu, "ins-a1000001")
        assert login(ip, new_file).refused
        result = bind(adhoc, emu, ["ins-a1000001"], [new], force_stop=True)
        assert result.changed
        assert emu.instance("ins-a1000001")["InstanceState"] == "RUNNING"
        assert emu.key_ids("ins-a1000001") == sorted(["skey-k1000001", new])  # the module keeps the old key under both readings
        assert login(ip, new_file).ok
        assert login(ip, other_file).refused  # a key pair that exists but is not bound to the instance
        states = [r["params"] for r in emu.requests()["requests"] if r["action"] == "AssociateInstancesKeyPairs"]
        assert all(params.get("ForceStop") for params in states), states

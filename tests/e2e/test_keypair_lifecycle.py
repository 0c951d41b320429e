# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cvm_keypair end to end: ansible -> module -> SDK -> HTTP -> emulator, asserting on results, the request log and state.

Seed (docs/emulator.md): skey-k1000001 ops-team bound to ins-a1000001 (RUNNING) and ins-a1000003 (STOPPED);
skey-k1000002 deploy bound to ins-a1000005 (STOPPED); skey-k1000003 alice and skey-k1000004 bob unbound.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat

import pytest

KEYPAIR = "tencentcloud.cvm.cvm_keypair"


def public_key(seed, comment="carol@laptop"):
    name = b"ssh-ed25519"
    blob = len(name).to_bytes(4, "big") + name + (32).to_bytes(4, "big") + hashlib.sha256(seed.encode()).digest()
    return "ssh-ed25519 %s %s" % (base64.b64encode(blob).decode(), comment)


def fingerprint(line):
    return "SHA256:" + base64.b64encode(hashlib.sha256(base64.b64decode(line.split()[1])).digest()).decode().rstrip("=")


@pytest.fixture
def keypair(adhoc):
    """Run cvm_keypair ad hoc."""
    def run(emu, module_args, **kwargs):
        return adhoc(emu, module_args, module=KEYPAIR, **kwargs)
    return run


def key_writes(emu, since=0):
    """Every write request the emulator received (any write action, whatever its outcome), as (action, params)."""
    writes = ("CreateKeyPair", "ImportKeyPair", "DeleteKeyPairs", "AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs",
              "StartInstances", "StopInstances")
    return [(r["action"], r["params"]) for r in emu.requests(since=since)["requests"] if r["action"] in writes]


def named(emu, name):
    return [k for k in emu.state()["key_pairs"] if k["KeyName"] == name]


def last_seq(emu):
    log = emu.requests()["requests"]
    return log[-1]["seq"] if log else 0


def test_create_writes_the_private_key_0600_and_never_shows_it(emulator, keypair, tmp_path):
    path = tmp_path / "keys" / "ops_new.pem"
    path.parent.mkdir()
    run = keypair(emulator, {"name": "ops_new", "private_key_path": str(path)}, verbosity=3)
    assert not run.failed and run.changed, run.result
    [created] = named(emulator, "ops_new")
    assert key_writes(emulator) == [("CreateKeyPair", {"KeyName": "ops_new", "ProjectId": 0})]
    private = path.read_text()
    assert private.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n") and private.endswith("-----END OPENSSH PRIVATE KEY-----\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    body = private.splitlines()[1]
    assert body not in run.stdout and body not in run.stderr and "PRIVATE KEY" not in str(run.result)
    assert "private_key" not in run.result
    assert run.result["key_pair"] == {"key_id": created["KeyId"], "key_name": "ops_new", "public_key": created["PublicKey"],
                                      "fingerprint": fingerprint(created["PublicKey"]), "project_id": 0, "associated_instance_ids": [],
                                      "created_time": created["CreatedTime"]}
    assert run.result["request_ids"] == [r["request_id"] for r in emulator.requests()["requests"] if r["action"] == "CreateKeyPair"]
    assert emulator.secret_key not in run.stdout + run.stderr

    seq = last_seq(emulator)
    again = keypair(emulator, {"name": "ops_new", "private_key_path": str(path)})
    assert not again.failed and not again.changed and again.result["request_ids"] == []
    assert key_writes(emulator, since=seq) == [] and path.read_text() == private
    assert again.result["key_pair"]["key_id"] == created["KeyId"]


def test_create_without_path_returns_the_private_key_once(emulator, keypair):
    run = keypair(emulator, {"name": "ci_runner", "project_id": 3})
    assert not run.failed and run.changed
    assert run.result["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert named(emulator, "ci_runner")[0]["ProjectId"] == 3
    again = keypair(emulator, {"name": "ci_runner", "project_id": 3})
    assert not again.changed and "private_key" not in again.result
    assert len(key_writes(emulator)) == 1


def test_existing_private_key_file_fails_before_creating(emulator, keypair, tmp_path):
    path = tmp_path / "taken.pem"
    path.write_text("someone's key")
    run = keypair(emulator, {"name": "ops_new", "private_key_path": str(path)})
    assert run.failed and run.result["msg"] == (
        "private_key_path %s already exists: the module never overwrites a file. Remove it, or choose another path. Nothing was changed." % path)
    assert emulator.write_count() == 0 and named(emulator, "ops_new") == [] and path.read_text() == "someone's key"


def test_check_mode_writes_nothing(emulator, keypair, tmp_path):
    run = keypair(emulator, {"name": "ops_new", "private_key_path": str(tmp_path / "k.pem")}, check=True, diff=True)
    assert not run.failed and run.changed
    assert run.result["diff"] == {"before": {}, "after": {"name": "ops_new", "key_id": None, "fingerprint": None, "associated_instance_ids": []}}
    assert emulator.write_count() == 0 and named(emulator, "ops_new") == [] and not (tmp_path / "k.pem").exists()


def test_import_is_idempotent_and_refuses_another_public_key(emulator, keypair):
    carol = public_key("carol")
    run = keypair(emulator, {"name": "carol", "public_key": carol + "\n"})
    assert not run.failed and run.changed, run.result
    assert key_writes(emulator) == [("ImportKeyPair", {"KeyName": "carol", "ProjectId": 0, "PublicKey": carol})]
    [imported] = named(emulator, "carol")
    assert run.result["key_pair"]["key_id"] == imported["KeyId"] and run.result["key_pair"]["public_key"] == carol
    assert run.result["key_pair"]["fingerprint"] == fingerprint(carol) and "private_key" not in run.result

    seq = last_seq(emulator)
    again = keypair(emulator, {"name": "carol", "public_key": carol.replace("carol@laptop", "carol@desktop")})
    assert not again.failed and not again.changed and key_writes(emulator, since=seq) == []

    other = public_key("mallory")
    refused = keypair(emulator, {"name": "carol", "public_key": other})
    assert refused.failed and key_writes(emulator, since=seq) == []
    assert refused.result["msg"] == (
        "The key pair 'carol' (%s) has another public key (%s) than public_key (%s); key pairs cannot be changed in place, so the module will "
        "not replace its public key. Delete it first (state=absent without public_key), or use another name. Nothing was changed."
        % (imported["KeyId"], fingerprint(carol), fingerprint(other)))


def test_importing_a_public_key_already_imported_fails_with_the_api_error(emulator, keypair):
    existing = emulator.key_pair("skey-k1000004")["PublicKey"]
    run = keypair(emulator, {"name": "bob_again", "public_key": existing})
    assert run.failed and run.result["error"]["code"] == "InvalidPublicKey.Duplicate"
    assert run.result["msg"].startswith("Failed to import the key pair 'bob_again': ")
    assert "already imported as another key pair in the region" in run.result["msg"]


def test_delete_then_delete_again(emulator, keypair):
    preview = keypair(emulator, {"name": "alice", "state": "absent"}, check=True, diff=True)
    assert preview.changed and emulator.write_count() == 0
    assert preview.result["diff"]["before"]["key_id"] == "skey-k1000003" and preview.result["diff"]["after"] == {}
    run = keypair(emulator, {"name": "alice", "state": "absent"})
    assert not run.failed and run.changed
    assert key_writes(emulator) == [("DeleteKeyPairs", {"KeyIds": ["skey-k1000003"]})]
    assert named(emulator, "alice") == [] and run.result["key_pair"]["key_id"] == "skey-k1000003"
    again = keypair(emulator, {"name": "alice", "state": "absent"})
    assert not again.failed and not again.changed and again.result["key_pair"] is None and len(key_writes(emulator)) == 1


def test_deleting_a_bound_key_without_force_fails_with_no_write(emulator, keypair):
    run = keypair(emulator, {"name": "ops-team", "state": "absent"})
    assert run.failed and not run.changed
    assert run.result["msg"] == (
        "The key pair 'ops-team' (skey-k1000001) is bound to ins-a1000001, ins-a1000003. Set force: true to unbind it from them first (with "
        "force_stop: true for instances that are not STOPPED), or unbind it with tencentcloud.cvm.cvm_keypair_association. Nothing was changed.")
    assert emulator.write_count() == 0 and len(named(emulator, "ops-team")) == 1


def test_force_without_force_stop_refuses_the_running_instance(emulator, keypair):
    run = keypair(emulator, {"name": "ops-team", "state": "absent", "force": True})
    assert run.failed and "ins-a1000001 (RUNNING)" in run.result["msg"] and "force_stop: true" in run.result["msg"]
    assert "ins-a1000003" not in run.result["msg"] and run.result["msg"].endswith("Nothing was changed.")
    assert emulator.write_count() == 0


def test_force_unbinds_through_disassociate_then_deletes(emulator, keypair):
    run = keypair(emulator, {"name": "ops-team", "state": "absent", "force": True, "force_stop": True}, diff=True)
    assert not run.failed and run.changed, run.result
    sent = key_writes(emulator)
    assert sent == [
        ("DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-a1000001", "ins-a1000003"], "KeyIds": ["skey-k1000001"], "ForceStop": True}),
        ("DeleteKeyPairs", {"KeyIds": ["skey-k1000001"]}),
    ]
    assert emulator.key_ids("ins-a1000001") == [] and emulator.key_ids("ins-a1000003") == []
    assert emulator.instance("ins-a1000001")["InstanceState"] == "RUNNING"  # force-stopped and started again
    assert emulator.instance("ins-a1000001")["LatestOperation"] == "DisassociateInstancesKeyPairs"
    assert named(emulator, "ops-team") == []
    log = [r for r in emulator.requests()["requests"] if r["action"] in ("DisassociateInstancesKeyPairs", "DeleteKeyPairs")]
    assert run.result["request_ids"] == [r["request_id"] for r in log]
    assert run.result["key_pair"]["associated_instance_ids"] == ["ins-a1000001", "ins-a1000003"]
    assert run.result["diff"]["before"]["associated_instance_ids"] == ["ins-a1000001", "ins-a1000003"] and run.result["diff"]["after"] == {}


def test_a_stopped_instance_needs_no_force_stop(emulator, keypair):
    run = keypair(emulator, {"name": "deploy", "state": "absent", "force": True})
    assert not run.failed and run.changed, run.result
    assert key_writes(emulator) == [
        ("DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-a1000005"], "KeyIds": ["skey-k1000002"]}),
        ("DeleteKeyPairs", {"KeyIds": ["skey-k1000002"]}),
    ]
    assert emulator.instance("ins-a1000005")["InstanceState"] == "STOPPED"


def test_ambiguous_name_fails_with_no_write(emulator, keypair):
    state = emulator.state()
    state["key_pairs"] += [{"KeyId": "skey-twin0001", "KeyName": "twin"}, {"KeyId": "skey-twin0002", "KeyName": "twin"}]
    emulator.load_state(state)
    for state_option in ("present", "absent"):
        run = keypair(emulator, {"name": "twin", "state": state_option, "force": state_option == "absent"})
        assert run.failed and run.result["msg"] == (
            "Several key pairs are named 'twin' in region ap-guangzhou: skey-twin0001, skey-twin0002. This module needs the name to be unique: "
            "delete or rename the extra ones, then run again. Nothing was changed.")
    assert emulator.write_count() == 0 and len(named(emulator, "twin")) == 2


def test_bad_input_fails_with_no_request(emulator, keypair):
    for module_args, message in (
        ({"name": "bad-name!"}, "name 'bad-name!' may contain only letters, digits and underscores (at most 25), like ops_team. Nothing was changed."),
        ({"name": "carol", "public_key": "ssh-ed25519 not-base64"}, "public_key is not an OpenSSH public key line"),
        ({"name": "carol", "state": "absent", "force_stop": True}, "force_stop only applies with force=true"),
    ):
        run = keypair(emulator, module_args)
        assert run.failed and run.result["msg"].startswith(message), run.result["msg"]
    assert emulator.write_count() == 0
    # Only the unusable new name needed a read (the name is free to look up; creating it is what fails).
    assert emulator.counts() == {"DescribeKeyPairs": 1}


def test_lifecycle_playbook_with_the_info_module(emulator, playbook, tmp_path):
    text = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: create
          tencentcloud.cvm.cvm_keypair:
            name: team_key
            private_key_path: "{{ path }}"
          register: created
        - name: bind
          tencentcloud.cvm.cvm_keypair_association:
            instance_ids: [ins-a1000004]
            key_ids: ["{{ created.key_pair.key_id }}"]
        - name: info
          tencentcloud.cvm.cvm_keypair_association_info:
            key_names: [team_key]
        - name: delete
          tencentcloud.cvm.cvm_keypair:
            name: team_key
            state: absent
            force: true
    """
    rc, tasks, out, err = playbook(emulator, text, extra_vars={"path": str(tmp_path / "team_key.pem")})
    assert rc == 0, out + err
    key_id = tasks["create"]["key_pair"]["key_id"]
    assert tasks["info"]["key_pairs"] == [{"key_id": key_id, "key_name": "team_key", "instance_ids": ["ins-a1000004"]}]
    assert tasks["info"]["instances"][0]["key_names"] == ["team_key"]
    assert [a for a, _params in key_writes(emulator)] == ["CreateKeyPair", "AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs", "DeleteKeyPairs"]
    assert emulator.key_ids("ins-a1000004") == [] and named(emulator, "team_key") == []
    assert (tmp_path / "team_key.pem").read_text().splitlines()[1] not in out + err

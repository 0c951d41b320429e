# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cvm_keypair over an in-memory API (narrow: the end-to-end tests use the real SDK and the emulator)."""
# pylint: disable=protected-access  # a narrow unit test reaches the internals it is about

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _base
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _key_changes, _key_pairs
from ansible_collections.tencentcloud.cvm.plugins.modules import cvm_keypair as module
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.in_memory_cvm import PRIVATE_KEY as PRIVATE, InMemoryCvm, instance, public_key


def fingerprint_of(line):
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@pytest.fixture
def cvm(monkeypatch, use_api):
    """An InMemoryCvm holding key pairs (as the API shows them) and instances given as {instance_id: {"keys": set, "state": ...}}."""
    monkeypatch.setattr(_key_changes.Binder, "FIRST_POLL", 0.01)

    def make(key_pairs=(), instances=None):
        views = [instance(i, d["keys"], d.get("state", "STOPPED")) for i, d in sorted((instances or {}).items())]
        return use_api(InMemoryCvm(views, key_pairs))

    return make


def args(**kwargs):
    base = {"secret_id": "AKIDx", "secret_key": "SECRETVALUE", "region": "ap-guangzhou"}
    base.update(kwargs)
    return base


ALICE = public_key("alice", "alice@laptop")
EXISTING = {
    "KeyId": "skey-aaaaaaaa",
    "KeyName": "alice",
    "ProjectId": 3,
    "Description": "",
    "PublicKey": ALICE,
    "CreatedTime": "2025-05-01T00:00:00Z",
    "Tags": [],
}
ALICE_KEY_PAIR = {
    "key_id": "skey-aaaaaaaa",
    "key_name": "alice",
    "public_key": ALICE,
    "fingerprint": fingerprint_of(ALICE),
    "project_id": 3,
    "associated_instance_ids": [],
    "created_time": "2025-05-01T00:00:00Z",
}


# -- present ----------------------------------------------------------------------------------------------------


def test_create_returns_the_private_key_once(run_module, cvm):
    api = cvm()
    failed, result = run_module(module.main, args(name="ops_team"))
    assert not failed and result["changed"]
    assert api.key_pair_writes() == [("CreateKeyPair", {"KeyName": "ops_team", "ProjectId": 0})]
    assert result["private_key"] == PRIVATE
    assert result["key_pair"] == {
        "key_id": "skey-new00001",
        "key_name": "ops_team",
        "public_key": public_key("skey-new00001", "ops_team"),
        "fingerprint": fingerprint_of(public_key("skey-new00001", "ops_team")),
        "project_id": 0,
        "associated_instance_ids": [],
        "created_time": "2026-01-10T08:00:00Z",
    }
    assert result["request_ids"] == ["req-2"]


def test_create_writes_the_private_key_0600_and_never_returns_it(run_module, cvm, tmp_path):
    api = cvm()
    path = tmp_path / "ops.pem"
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(path), project_id=7))
    assert not failed and result["changed"]
    assert path.read_text() == PRIVATE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "private_key" not in result and "UNIT-TEST-PRIVATE-KEY" not in json.dumps(result)
    assert api.key_pair_writes() == [("CreateKeyPair", {"KeyName": "ops_team", "ProjectId": 7})]


def test_missing_directories_of_private_key_path_are_created_owner_only(run_module, cvm, tmp_path):
    api = cvm()
    os.chmod(tmp_path, 0o755)
    path = tmp_path / "project" / "secrets" / "ops.pem"
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(path)))
    assert not failed and result["changed"]
    assert path.read_text() == PRIVATE and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700  # the folder holding the key: owner only
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o755  # an existing folder is left as it is
    assert [a for a, _params in api.key_pair_writes()] == ["CreateKeyPair"]


def test_check_mode_creates_no_directory(run_module, cvm, tmp_path):
    api = cvm()
    path = tmp_path / "secrets" / "ops.pem"
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(path), _ansible_check_mode=True))
    assert not failed and result["changed"]
    assert not (tmp_path / "secrets").exists() and api.key_pair_writes() == []


@pytest.mark.parametrize(
    "make, target, fragment",
    [
        (lambda p: (p / "ops.pem").write_text("old key"), "ops.pem", "already exists: the module never overwrites a file"),
        (lambda p: (p / "secrets").write_text("a file"), "secrets/ops.pem", "secrets in private_key_path %s/secrets/ops.pem is not a directory"),
        (lambda p: (p / "ro").mkdir(mode=0o500), "ro/secrets/ops.pem", "where private_key_path's directory %s/ro/secrets would be created, is not writable"),
    ],
)
def test_unusable_private_key_path_fails_before_creating(run_module, cvm, tmp_path, make, target, fragment):
    if "not writable" in fragment and os.geteuid() == 0:
        pytest.skip("root may write into any directory")
    api = cvm()
    make(tmp_path)
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(tmp_path / target)))
    fragment = fragment.replace("%s", str(tmp_path))
    assert failed and fragment in result["msg"] and result["msg"].endswith("Nothing was changed."), result["msg"]
    assert api.key_pair_writes() == [] and not result["changed"]
    if target == "ops.pem":
        assert (tmp_path / "ops.pem").read_text() == "old key"


def test_failed_private_key_write_deletes_the_new_key_again(run_module, cvm, tmp_path, monkeypatch):
    api = cvm()

    def refuse(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "write_private_key", refuse)
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(tmp_path / "ops.pem")))
    assert failed
    assert result["msg"] == (
        "Could not write the private key to %s: No space left on device. The new key pair skey-new00001 was deleted again, "
        "since its private key would be lost." % (tmp_path / "ops.pem")
    )
    assert [a for a, _params in api.key_pair_writes()] == ["CreateKeyPair", "DeleteKeyPairs"] and api.key_pairs == {}
    assert "UNIT-TEST-PRIVATE-KEY" not in json.dumps(result)


def test_import_sends_the_stripped_public_key(run_module, cvm):
    api = cvm()
    failed, result = run_module(module.main, args(name="alice", public_key="  %s\n" % ALICE))
    assert not failed and result["changed"]
    assert api.key_pair_writes() == [("ImportKeyPair", {"KeyName": "alice", "ProjectId": 0, "PublicKey": ALICE})]
    assert result["key_pair"]["key_id"] == "skey-new00001" and result["key_pair"]["fingerprint"] == fingerprint_of(ALICE)
    assert "private_key" not in result


@pytest.mark.parametrize("given", [None, ALICE, ALICE.rsplit(" ", 1)[0] + " another-comment"])
def test_existing_key_pair_is_no_change(run_module, cvm, given):
    api = cvm([EXISTING])
    params = args(name="alice", _ansible_diff=True)
    if given:
        params["public_key"] = given
    failed, result = run_module(module.main, params)
    assert not failed and not result["changed"] and api.key_pair_writes() == []
    assert result["key_pair"] == ALICE_KEY_PAIR and result["request_ids"] == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_existing_key_pair_with_another_public_key_fails(run_module, cvm):
    api = cvm([EXISTING])
    other = public_key("mallory")
    failed, result = run_module(module.main, args(name="alice", public_key=other))
    assert failed and api.key_pair_writes() == []
    assert result["msg"] == (
        "The key pair 'alice' (skey-aaaaaaaa) has another public key (%s) than public_key (%s); key pairs cannot be changed "
        "in place, so the module will not replace its public key. Delete it first (state=absent without public_key), or use "
        "another name. Nothing was changed." % (fingerprint_of(ALICE), fingerprint_of(other))
    )


def test_existing_key_pair_with_missing_private_key_file_warns(run_module, cvm, tmp_path, monkeypatch):
    api = cvm([EXISTING])
    warnings = []
    monkeypatch.setattr(_base.TencentCloudModule, "warn", lambda self, message: warnings.append(message))
    failed, result = run_module(module.main, args(name="alice", private_key_path=str(tmp_path / "alice.pem")))
    assert not failed and not result["changed"] and api.key_pair_writes() == []
    assert warnings == [
        "The key pair 'alice' exists, so its private key cannot be written to %s: Tencent Cloud returns a private key only when "
        "it creates the key pair." % (tmp_path / "alice.pem")
    ]
    assert not (tmp_path / "alice.pem").exists()


def test_check_mode_create_writes_nothing(run_module, cvm, tmp_path):
    api = cvm()
    failed, result = run_module(module.main, args(name="alice", public_key=ALICE, _ansible_check_mode=True, _ansible_diff=True))
    assert not failed and result["changed"] and api.key_pair_writes() == []
    assert result["key_pair"] == {
        "key_id": None,
        "key_name": "alice",
        "public_key": ALICE,
        "fingerprint": fingerprint_of(ALICE),
        "project_id": 0,
        "associated_instance_ids": [],
        "created_time": None,
    }
    assert result["diff"] == {"before": {}, "after": {"name": "alice", "key_id": None, "fingerprint": fingerprint_of(ALICE), "associated_instance_ids": []}}
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(tmp_path / "k.pem"), _ansible_check_mode=True))
    assert result["changed"] and "private_key" not in result and not (tmp_path / "k.pem").exists() and api.key_pair_writes() == []


def test_names_that_cannot_be_created_fail_before_any_write(run_module, cvm):
    api = cvm()
    failed, result = run_module(module.main, args(name="skey-abcdefgh"))
    assert failed and api.key_pair_writes() == []
    assert result["msg"] == (
        "name 'skey-abcdefgh' may contain only letters, digits and underscores (at most 25), like ops_team. It looks like a key "
        "pair ID: this module finds key pairs by name. Nothing was changed."
    )
    failed, result = run_module(module.main, args(name="a" * 26))
    assert failed and "has 26 characters: at most 25 are allowed." in result["msg"] and api.key_pair_writes() == []


def test_existing_name_with_other_characters_is_found(run_module, cvm):
    api = cvm([dict(EXISTING, KeyName="ops-team")])
    failed, result = run_module(module.main, args(name="ops-team"))
    assert not failed and not result["changed"] and result["key_pair"]["key_id"] == "skey-aaaaaaaa" and api.key_pair_writes() == []


def test_ambiguous_name_fails_before_any_write(run_module, cvm):
    api = cvm([EXISTING, dict(EXISTING, KeyId="skey-bbbbbbbb")])
    for state in ("present", "absent"):
        failed, result = run_module(module.main, args(name="alice", state=state))
        assert failed and result["msg"] == (
            "Several key pairs are named 'alice' in region ap-guangzhou: skey-aaaaaaaa, skey-bbbbbbbb. This module "
            "needs the name to be unique: delete or rename the extra ones, then run again. Nothing was changed."
        )
    assert api.key_pair_writes() == []


# -- absent -----------------------------------------------------------------------------------------------------


def test_absent_deletes_once(run_module, cvm):
    api = cvm([EXISTING])
    failed, result = run_module(module.main, args(name="alice", state="absent", _ansible_diff=True))
    assert not failed and result["changed"]
    assert api.key_pair_writes() == [("DeleteKeyPairs", {"KeyIds": ["skey-aaaaaaaa"]})] and api.key_pairs == {}
    assert result["key_pair"] == ALICE_KEY_PAIR and result["request_ids"] == ["req-2"]
    assert result["diff"]["after"] == {} and result["diff"]["before"]["key_id"] == "skey-aaaaaaaa"
    failed, result = run_module(module.main, args(name="alice", state="absent"))
    assert not failed and not result["changed"] and result["key_pair"] is None and len(api.key_pair_writes()) == 1


def test_absent_in_check_mode_writes_nothing(run_module, cvm):
    api = cvm([EXISTING])
    failed, result = run_module(module.main, args(name="alice", state="absent", _ansible_check_mode=True))
    assert not failed and result["changed"] and api.key_pair_writes() == [] and "skey-aaaaaaaa" in api.key_pairs


def test_absent_with_another_public_key_refuses(run_module, cvm):
    api = cvm([EXISTING])
    failed, result = run_module(module.main, args(name="alice", state="absent", public_key=public_key("bob")))
    assert failed and "so the module will not delete it" in result["msg"] and api.key_pair_writes() == []


def test_bound_key_without_force_fails_naming_the_instances(run_module, cvm):
    api = cvm([EXISTING], {"ins-00000002": {"keys": {"skey-aaaaaaaa"}}, "ins-00000001": {"keys": {"skey-aaaaaaaa"}}})
    failed, result = run_module(module.main, args(name="alice", state="absent"))
    assert failed and api.key_pair_writes() == []
    assert result["msg"] == (
        "The key pair 'alice' (skey-aaaaaaaa) is bound to ins-00000001, ins-00000002. Set force: true to unbind it from them "
        "first (with force_stop: true for instances that are not STOPPED), or unbind it with "
        "tencentcloud.cvm.cvm_keypair_association. Nothing was changed."
    )


def test_force_unbinds_then_deletes(run_module, cvm):
    api = cvm([EXISTING], {"ins-00000001": {"keys": {"skey-aaaaaaaa", "skey-cccccccc"}}, "ins-00000002": {"keys": {"skey-aaaaaaaa"}}})
    failed, result = run_module(module.main, args(name="alice", state="absent", force=True))
    assert not failed and result["changed"], result
    assert api.key_pair_writes() == [
        ("DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-00000001", "ins-00000002"], "KeyIds": ["skey-aaaaaaaa"]}),
        ("DeleteKeyPairs", {"KeyIds": ["skey-aaaaaaaa"]}),
    ]
    assert api.keys_of("ins-00000001") == {"skey-cccccccc"} and api.key_pairs == {}
    assert result["key_pair"]["associated_instance_ids"] == ["ins-00000001", "ins-00000002"]
    assert len(result["request_ids"]) == 2


def test_force_skips_a_bound_instance_that_no_longer_exists(run_module, cvm):
    """AssociatedInstanceIds can still list a terminated instance: it holds no key, so nothing is sent for it."""
    api = cvm([dict(EXISTING, AssociatedInstanceIds=["ins-gone0001"])], {"ins-00000001": {"keys": {"skey-aaaaaaaa"}}})
    failed, result = run_module(module.main, args(name="alice", state="absent", force=True))
    assert not failed and result["changed"], result.get("msg")
    assert api.key_pair_writes() == [
        ("DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-00000001"], "KeyIds": ["skey-aaaaaaaa"]}),
        ("DeleteKeyPairs", {"KeyIds": ["skey-aaaaaaaa"]}),
    ]


def rebinding(api, times):
    """Another client binds skey-aaaaaaaa to ins-00000001 again right after each of the first `times` unbinds."""
    original = api.call
    left = [times]

    def call(action, params, resend_safe=False):
        response = original(action, params, resend_safe)
        if action == "DisassociateInstancesKeyPairs" and left[0]:
            left[0] -= 1
            api.set_keys("ins-00000001", api.keys_of("ins-00000001") | {"skey-aaaaaaaa"})
        return response

    api.call = call


def test_force_unbinds_again_what_another_client_bound_meanwhile(run_module, cvm):
    api = cvm([EXISTING], {"ins-00000001": {"keys": {"skey-aaaaaaaa"}}})
    rebinding(api, 1)
    failed, result = run_module(module.main, args(name="alice", state="absent", force=True))
    assert not failed and result["changed"], result.get("msg")
    assert [a for a, _params in api.key_pair_writes()] == ["DisassociateInstancesKeyPairs", "DisassociateInstancesKeyPairs", "DeleteKeyPairs"]
    assert api.key_pairs == {} and api.keys_of("ins-00000001") == set()


def test_force_gives_up_after_the_rounds_and_keeps_the_key_pair(run_module, cvm):
    api = cvm([EXISTING], {"ins-00000001": {"keys": {"skey-aaaaaaaa"}}})
    rebinding(api, 99)
    failed, result = run_module(module.main, args(name="alice", state="absent", force=True))
    assert failed and result["changed"]
    assert result["msg"] == (
        "Could not verify the keys of ins-00000001 after 3 rounds: another client keeps changing them. Keys now: "
        "ins-00000001: [skey-aaaaaaaa]. The key pair was not deleted; run again to retry."
    )
    assert [a for a, _params in api.key_pair_writes()] == ["DisassociateInstancesKeyPairs"] * 3 and "skey-aaaaaaaa" in api.key_pairs


def test_force_with_a_running_instance_needs_force_stop(run_module, cvm):
    instances = {"ins-00000001": {"keys": {"skey-aaaaaaaa"}, "state": "RUNNING"}}
    api = cvm([EXISTING], instances)
    failed, result = run_module(module.main, args(name="alice", state="absent", force=True))
    assert failed and api.key_pair_writes() == []
    assert result["msg"] == (
        "The key pair skey-aaaaaaaa must be unbound before it is deleted. These instances need a change but are not STOPPED: "
        "ins-00000001 (RUNNING). Set force_stop: true to let "
        "the API stop them (running ones are started again), or stop them first. Nothing was changed."
    )
    failed, result = run_module(module.main, args(name="alice", state="absent", force=True, force_stop=True))
    assert not failed
    assert api.key_pair_writes()[0] == ("DisassociateInstancesKeyPairs", {"InstanceIds": ["ins-00000001"], "KeyIds": ["skey-aaaaaaaa"], "ForceStop": True})


def test_force_in_check_mode_plans_and_writes_nothing(run_module, cvm):
    api = cvm([EXISTING], {"ins-00000001": {"keys": {"skey-aaaaaaaa"}}})
    failed, result = run_module(module.main, args(name="alice", state="absent", force=True, _ansible_check_mode=True))
    assert not failed and result["changed"] and api.key_pair_writes() == []
    assert [a for a, _params in api.calls] == ["DescribeKeyPairs", "DescribeInstances"]


# -- bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(name=""), "name is empty: give the key pair's name, like ops_team."),
        (
            dict(name="k", public_key="ssh-rsa"),
            "public_key is not an OpenSSH public key line ('<type> <base64 blob> [comment]', like the contents of "
            "~/.ssh/id_ed25519.pub); it starts with 'ssh-rsa'.",
        ),
        (dict(name="k", public_key="ssh-rsa AAAAB3NzaC1lZDI1NTE5AAAAIJ8 x"), "public_key is not an OpenSSH public key line"),
        (dict(name="k", public_key=" "), "public_key is empty: give an OpenSSH public key line, or leave the option out"),
        (dict(name="k", public_key=ALICE + "\n" + public_key("bob")), "public_key holds 2 lines: give exactly one OpenSSH public key line."),
        (dict(name="k", public_key=PRIVATE), "public_key holds a private key (its value is not shown): give the public key, the contents of the .pub file."),
        (dict(name="k", public_key=ALICE, private_key_path="/tmp/k.pem"), "private_key_path only applies when Tencent Cloud creates the key pair"),
        (dict(name="k", state="absent", private_key_path="/tmp/k.pem"), "private_key_path only applies to state=present: remove it."),
        (dict(name="k", force=True), "force and force_stop only apply to state=absent: remove them."),
        (dict(name="k", state="absent", force_stop=True), "force_stop only applies with force=true"),
        (dict(name="k", project_id=-1), "project_id must be 0 (the default project) or a positive project ID (at most 9223372036854775807), got -1."),
        (dict(name="k", state="absent", wait_timeout=0), "wait_timeout must be a whole number of seconds from 1 to 86400 (one day), got 0."),
    ],
)
def test_bad_input_fails_without_any_call(run_module, cvm, params, message):
    api = cvm([EXISTING])
    failed, result = run_module(module.main, args(**params))
    assert failed and result["msg"].startswith(message) and result["msg"].endswith("Nothing was changed.")
    assert api.calls == []
    assert "UNIT-TEST-PRIVATE-KEY" not in result["msg"]


def test_fingerprint_matches_ssh_keygen_format():
    assert _key_pairs.fingerprint(ALICE) == fingerprint_of(ALICE) and _key_pairs.fingerprint("nonsense") is None
    assert _key_pairs.fingerprint(ALICE.rsplit(" ", 1)[0]) == _key_pairs.fingerprint(ALICE)


@pytest.mark.parametrize(
    "target, fragment",
    [
        ("secrets/", "names a directory, not a file"),
        ("secrets/.", "names a directory, not a file"),
        ("secrets/..", "names a directory, not a file"),
        ("k" * 256 + ".pem", "allows at most 255 bytes (NAME_MAX) in one name"),
        ("\u00e9" * 128 + ".pem", "allows at most 255 bytes (NAME_MAX) in one name"),  # 128 characters, 260 bytes
        ("d" * 300 + "/ops.pem", "allows at most 255 bytes (NAME_MAX) in one name"),  # a directory the module would create
        ("existing_dir", "already exists: the module never overwrites a file"),
    ],
    ids=[
        "trailing slash",
        "dot",
        "dot dot",
        "name of 260 bytes",
        "name of 128 characters and 260 bytes",
        "directory name of 300 bytes",
        "an existing directory",
    ],
)
def test_a_private_key_path_that_cannot_be_written_is_refused_before_any_write(run_module, cvm, tmp_path, target, fragment):
    api = cvm()
    (tmp_path / "existing_dir").mkdir()
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(tmp_path) + "/" + target))
    assert failed and "private_key_path" in result["msg"] and fragment in result["msg"], result["msg"]
    assert api.key_pair_writes() == [] and not result["changed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing_dir"]  # no directory made either


# -- the pending marker: a create stopped before its private key was stored ---------------------------------------


def test_the_pending_marker_is_there_0600_while_create_key_pair_is_sent_and_gone_once_the_key_is_stored(run_module, cvm, tmp_path, monkeypatch):
    api = cvm()
    path = tmp_path / "ops.pem"
    seen = []
    real_call = api.call

    def call(action, params, resend_safe=False):
        if action == "CreateKeyPair":
            marker = os.stat(str(path) + ".pending")
            seen.append((stat.S_IMODE(marker.st_mode), path.exists()))
        return real_call(action, params, resend_safe)

    monkeypatch.setattr(api, "call", call)
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(path)))
    assert not failed and result["changed"] and seen == [(0o600, False)]
    assert path.read_text() == PRIVATE and not os.path.lexists(str(path) + ".pending")


def test_a_key_pair_whose_private_key_was_never_stored_fails_naming_the_fix(run_module, cvm, tmp_path):
    api = cvm(key_pairs=[dict(EXISTING, KeyName="ops_team")])
    path = tmp_path / "ops.pem"
    (tmp_path / "ops.pem.pending").write_text("")
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(path)))
    assert failed and "never stored" in result["msg"] and "skey-aaaaaaaa" in result["msg"] and "state: absent" in result["msg"], result["msg"]
    assert api.key_pair_writes() == [] and (tmp_path / "ops.pem.pending").exists()


@pytest.mark.parametrize("key_pair_exists", [False, True])
def test_a_stale_pending_marker_is_removed(run_module, cvm, tmp_path, key_pair_exists):
    api = cvm(key_pairs=[dict(EXISTING, KeyName="ops_team")] if key_pair_exists else [])
    path = tmp_path / "ops.pem"
    if key_pair_exists:
        path.write_text("stored before the run was stopped")
    (tmp_path / "ops.pem.pending").write_text("")
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(path)))
    assert not failed and result["changed"] is not key_pair_exists, result
    assert not (tmp_path / "ops.pem.pending").exists()
    assert [a for a, _params in api.key_pair_writes()] == ([] if key_pair_exists else ["CreateKeyPair"])


def test_the_marker_stays_when_a_new_key_pair_without_its_private_key_could_not_be_deleted(run_module, cvm, tmp_path, monkeypatch):
    api = cvm()
    api.fail_on["DeleteKeyPairs"] = _base._client.CvmApiError("DeleteKeyPairs", "InternalError.Refused", "refused")

    def refuse(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(module, "write_private_key", refuse)
    failed, result = run_module(module.main, args(name="ops_team", private_key_path=str(tmp_path / "ops.pem")))
    assert failed and "could not be deleted again" in result["msg"], result["msg"]
    assert (tmp_path / "ops.pem.pending").exists()  # so the next run fails too, naming the fix

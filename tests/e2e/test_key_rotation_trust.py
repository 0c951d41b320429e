# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role tencentcloud.cvm.key_rotation never locks a host out and never claims what it did not do: the login check uses
the new key and nothing else, addresses are checked, bad inputs fail before any write, and check mode tells the truth.

Real role runs (ansible-playbook) against the emulator in SSH mode, logins with the real ssh client."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import textwrap

import pytest

from ansible_env import BIN  # pylint: disable=import-error
from e2e_support import read_results  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
import rotation_support
from rotation_support import API_PLAY, INVENTORY_PLAY, OLD_KEY_ID, SSH_EXTRA, address, new_key_ids, report_of, role_vars
from ssh_client import login, new_key  # pylint: disable=import-error
from ssh_fleet import requires_sshd, ssh_emulator, ssh_env, write_inventory


def fleet_state(size, old_public_key, extra_key_pairs=()):
    return rotation_support.fleet_state(size, old_public_key, "t", "trust", extra_key_pairs)


def run_role(ansible_env, emu, tmp_path, play, inventory, extra_vars, env=None, options=(), wrapper=()):
    """ansible-playbook over ssh, optionally with more command-line options and under a wrapper command;
    returns (rc, [result records], stdout, stderr)."""
    path = tmp_path / "play.yml"
    path.write_text(textwrap.dedent(play))
    cmd = list(wrapper) + [str(BIN / "ansible-playbook"), "-i", str(inventory), str(path), "--forks", "10",
                           "-e", json.dumps(extra_vars)] + list(options)
    run_env = ansible_env(emu, ssh_env(env))
    proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, read_results(proc, run_env), proc.stdout, proc.stderr


def writes(emu):
    return [r["action"] for r in emu.requests()["requests"] if r["action"] in WRITE_ACTIONS]


WRITE_ACTIONS = ("AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs", "ImportKeyPair", "CreateKeyPair", "DeleteKeyPairs")


def passwd_ssh_dir():
    """The folder ssh reads ~/.ssh/config from: in the passwd entry's home, not $HOME. Made (empty, 0700) when missing, to
    have a mount point; the test never writes into it."""
    path = os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".ssh")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def private_mount_namespace_works():
    try:
        proc = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30, check=False)
    except OSError:
        return False
    return proc.returncode == 0


# -- the login check uses the new key only ----------------------------------------------------------------------------------


def hostile_ssh_config(tmp_path, old_file):
    """A command prefix that runs ansible in a private mount namespace in which ~/.ssh of the passwd home (where ssh looks
    for its config) holds a config naming the old key for every instance address."""
    hostile = tmp_path / "hostile_ssh"
    hostile.mkdir(mode=0o700)
    (hostile / "config").write_text("Host 127.*\n    IdentityFile %s\n    IdentitiesOnly yes\n" % old_file)
    os.chmod(hostile / "config", 0o600)
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", str(hostile), passwd_ssh_dir()]


requires_mount_namespace = pytest.mark.skipif(not private_mount_namespace_works(), reason="needs a private mount namespace (unshare -m, as root)")


@requires_sshd
@requires_mount_namespace
@pytest.mark.nondeterministic
def test_a_hostile_ssh_config_naming_the_old_key_cannot_pass_the_login_check(ansible_env, tmp_path):
    """On ins-t0000002 the new key never arrives: its login check must fail, and the old key must stay bound there and
    still log in, although the controller's ssh config offers the old key."""
    old_file, old_public = new_key(tmp_path / "old_key")
    new_file, new_public = new_key(tmp_path / "new_key.pem")
    wrapper = hostile_ssh_config(tmp_path, old_file)
    with ssh_emulator("add", "--fault-key-injection", "ins-t0000002") as emu:
        emu.load_state(fleet_state(3, old_public))
        inventory = write_inventory(tmp_path, emu, filters={"tag:fleet": "rotation"})
        extra = role_vars(tmp_path, key_rotation_new_public_key=new_public)
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, INVENTORY_PLAY, inventory, extra, wrapper=wrapper)
        assert rc != 0, stdout[-4000:]
        failure = [line for line in stdout.splitlines() if "did not complete on 1 instance" in line]
        assert failure and "ins-t0000002" in failure[0], stdout[-4000:]
        assert OLD_KEY_ID in emu.key_ids("ins-t0000002")
        assert login(address(emu, "ins-t0000002"), old_file).ok
        for instance_id in ("ins-t0000001", "ins-t0000003"):
            assert emu.key_ids(instance_id) == new_key_ids(emu)
            assert login(address(emu, instance_id), new_file).ok


@requires_sshd
@requires_mount_namespace
def test_a_hostile_ssh_config_and_a_new_private_key_of_another_pair_rotate_nothing(ansible_env, tmp_path):
    """The private key at key_rotation_new_private_key_path is not the imported new key pair's: no login can prove the
    new key, so every instance keeps its old key (which still logs in), although the ssh config offers the old key."""
    old_file, old_public = new_key(tmp_path / "old_key")
    _imported_file, imported_public = new_key(tmp_path / "imported_key")
    new_key(tmp_path / "new_key.pem")  # another key pair's private key at the path the role logs in with
    wrapper = hostile_ssh_config(tmp_path, old_file)
    with ssh_emulator("add") as emu:
        emu.load_state(fleet_state(2, old_public))
        inventory = write_inventory(tmp_path, emu, filters={"tag:fleet": "rotation"})
        extra = role_vars(tmp_path, key_rotation_new_public_key=imported_public)
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, INVENTORY_PLAY, inventory, extra, wrapper=wrapper)
        assert rc != 0, stdout[-4000:]
        assert "does not belong to key pair new_key" in stdout, stdout[-4000:]
        for instance_id in ("ins-t0000001", "ins-t0000002"):
            assert emu.key_ids(instance_id) == [OLD_KEY_ID]
            assert login(address(emu, instance_id), old_file).ok
        assert writes(emu) == []


@requires_sshd
@pytest.mark.parametrize("extra_args", [
    "-i {old}", "-o IdentityFile={old}", "-oIdentityFile={old}", "-o 'IdentityAgent /nonexistent/agent.sock'",
    "-o CertificateFile={old}-cert.pub", "-o ProxyCommand='touch {marker}'", "-J jump.example", "-o LocalCommand='touch {marker}'",
    "-o PermitLocalCommand=yes", "-F {old}", "-o 'Include {old}'", "-o 'Match exec \"touch {marker}\"'", "-G", "127.0.0.1",
])
def test_ssh_extra_args_that_could_log_in_without_the_new_key_are_refused_before_any_write(extra_args, ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    marker = tmp_path / "marker"
    value = extra_args.format(old=old_file, marker=marker)
    with ssh_emulator("add") as emu:
        emu.load_state(fleet_state(2, old_public))
        extra = role_vars(tmp_path, key_rotation_instance_filters={"tag:fleet": "rotation"},
                          key_rotation_ssh_extra_args=SSH_EXTRA + " " + value)
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
        assert rc != 0
        failure = [line for line in stdout.splitlines() if "key_rotation_ssh_extra_args holds" in line]
        assert failure, stdout[-4000:]
        assert writes(emu) == []
        assert not marker.exists()
        assert emu.key_ids("ins-t0000001") == [OLD_KEY_ID]


# -- addresses ------------------------------------------------------------------------------------------------------------


def test_an_instance_whose_address_is_an_ssh_option_is_refused_and_not_touched(ansible_env, tmp_path):
    """The API's PrivateIpAddresses is data: a value like -oProxyCommand=... must never reach ssh. (The emulator's SSH mode
    gives every instance a loopback address, so this one runs without it: nothing may log in anyway.)"""
    _old_file, old_public = new_key(tmp_path / "old_key")
    new_key(tmp_path / "new_key.pem")
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    state = fleet_state(1, old_public)
    state["instances"][0]["PrivateIpAddresses"] = ["-oProxyCommand=touch %s/x_%%h" % marker_dir]
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        emu.load_state(state)
        extra = role_vars(tmp_path, key_rotation_instance_ids=["ins-t0000001"],
                          key_rotation_new_public_key=(tmp_path / "new_key.pem.pub").read_text().strip())
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
        assert rc != 0
        assert list(marker_dir.iterdir()) == []
        warning = [line for line in stdout.splitlines() if "WARNING: instance ins-t0000001 is not rotated" in line]
        assert warning and "is not an IP address" in warning[0], stdout[-4000:]
        assert [a for a in writes(emu) if a != "ImportKeyPair"] == []
        assert emu.key_ids("ins-t0000001") == [OLD_KEY_ID]


@requires_sshd
def test_allowed_networks_confine_the_logins(ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    _new_file, new_public = new_key(tmp_path / "new_key.pem")
    with ssh_emulator("add") as emu:
        emu.load_state(fleet_state(2, old_public))
        extra = role_vars(tmp_path, key_rotation_instance_filters={"tag:fleet": "rotation"}, key_rotation_new_public_key=new_public,
                          key_rotation_allowed_networks=["10.0.0.0/8", "fd00::/8"])
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
        assert rc != 0
        for instance_id in ("ins-t0000001", "ins-t0000002"):
            warning = [line for line in stdout.splitlines() if "WARNING: instance %s is not rotated" % instance_id in line]
            assert warning and "outside the allowed networks 10.0.0.0/8, fd00::/8" in warning[0], stdout[-4000:]
            assert emu.key_ids(instance_id) == [OLD_KEY_ID]
            assert login(address(emu, instance_id), old_file).ok
        assert [a for a in writes(emu) if a != "ImportKeyPair"] == []

        extra["key_rotation_allowed_networks"] = ["127.0.0.0/8"]
        rc, _records, stdout, stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
        assert rc == 0, stdout[-4000:] + stderr[-2000:]
        assert [emu.key_ids(i) for i in ("ins-t0000001", "ins-t0000002")] == [new_key_ids(emu)] * 2

        extra["key_rotation_allowed_networks"] = ["127.0.0.0/33"]
        before = len(writes(emu))
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
        assert rc != 0 and "'127.0.0.0/33' is not a network" in stdout, stdout[-4000:]
        assert len(writes(emu)) == before


# -- AWX: a private key path the job deletes -------------------------------------------------------------------------------


@requires_sshd
def test_a_private_key_path_inside_the_awx_job_directory_is_refused_before_any_write(ansible_env, tmp_path):
    _old_file, old_public = new_key(tmp_path / "old_key")
    job_dir = tmp_path / "awx_job_private_data"
    (job_dir / "keys").mkdir(parents=True)
    with ssh_emulator("add") as emu:
        emu.load_state(fleet_state(1, old_public))
        key_path = job_dir / "keys" / "new_key.pem"
        extra = role_vars(tmp_path, key_rotation_instance_filters={"tag:fleet": "rotation"}, key_rotation_new_private_key_path=str(key_path))
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra,
                                                 env={"AWX_PRIVATE_DATA_DIR": str(job_dir), "JOB_ID": "42"})
        assert rc != 0
        assert "is inside the job's private data directory" in stdout and str(key_path) in stdout, stdout[-4000:]
        assert writes(emu) == []
        assert not key_path.exists()


# -- retired keys ---------------------------------------------------------------------------------------------------------


@requires_sshd
@pytest.mark.parametrize("case", ["misspelled", "ambiguous", "new_key_by_id", "missing_id"])
def test_retired_keys_that_do_not_resolve_to_one_other_key_pair_fail_before_any_write(case, ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    _twin_file, twin_public = new_key(tmp_path / "twin_key")
    _new_file, new_public = new_key(tmp_path / "new_key.pem")
    extra_pairs = {"ambiguous": [{"KeyId": "skey-twin0001", "KeyName": "old_key", "PublicKey": twin_public}],
                   "new_key_by_id": [{"KeyId": "skey-new00001", "KeyName": "new_key", "PublicKey": new_public}]}.get(case, [])
    retired = {"misspelled": {"key_rotation_retired_key_names": ["oldkye"]},
               "ambiguous": {"key_rotation_retired_key_names": ["old_key"]},
               "new_key_by_id": {"key_rotation_retired_key_names": [], "key_rotation_retired_key_ids": [OLD_KEY_ID, "skey-new00001"]},
               "missing_id": {"key_rotation_retired_key_names": [], "key_rotation_retired_key_ids": [OLD_KEY_ID, "skey-gone0001"]}}[case]
    expected = {"misspelled": "No key pair has the retired ID or name oldkye", "ambiguous": "old_key belong to several key pairs",
                "new_key_by_id": "skey-new00001 are the new key pair new_key", "missing_id": "No key pair has the retired ID or name skey-gone0001"}
    with ssh_emulator("add") as emu:
        emu.load_state(fleet_state(2, old_public, extra_pairs))
        extra = role_vars(tmp_path, key_rotation_instance_filters={"tag:fleet": "rotation"}, key_rotation_new_public_key=new_public, **retired)
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
        assert rc != 0
        assert expected[case] in stdout and "Nothing was changed" in stdout, stdout[-4000:]
        assert writes(emu) == []
        assert login(address(emu, "ins-t0000001"), old_file).ok

        if case == "missing_id":
            # Said explicitly: an ID already deleted counts as retired, the others are unbound.
            extra["key_rotation_allow_missing_retired"] = True
            rc, _records, stdout, stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
            assert rc == 0, stdout[-4000:] + stderr[-2000:]
            assert emu.key_ids("ins-t0000001") == new_key_ids(emu)
            assert login(address(emu, "ins-t0000001"), old_file).refused


# -- check mode -----------------------------------------------------------------------------------------------------------


@requires_sshd
@pytest.mark.parametrize("key_pair_exists", [False, True])
def test_check_mode_reports_the_bind_and_the_unbind_and_changes_nothing(key_pair_exists, ansible_env, tmp_path):
    old_file, old_public = new_key(tmp_path / "old_key")
    _new_file, new_public = new_key(tmp_path / "new_key.pem")
    extra_pairs = [{"KeyId": "skey-new00001", "KeyName": "new_key", "PublicKey": new_public}] if key_pair_exists else []
    with ssh_emulator("add") as emu:
        emu.load_state(fleet_state(2, old_public, extra_pairs))
        extra = role_vars(tmp_path, key_rotation_instance_filters={"tag:fleet": "rotation"}, key_rotation_new_public_key=new_public)
        rc, records, stdout, stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra, options=["--check", "--diff"])
        assert rc == 0, stdout[-4000:] + stderr[-2000:]
        assert writes(emu) == []
        assert "logging in with the new key failed" not in stdout
        entries = report_of(records)
        assert [(e["instance_id"], e["rotated"]) for e in entries] == [("ins-t0000001", False), ("ins-t0000002", False)]
        for entry in entries:
            assert entry["reason"].startswith("check mode: a real run binds key pair new_key here and, once the new key logs in, "
                                              "unbinds %s" % OLD_KEY_ID), entry
        plan = [line for line in stdout.splitlines() if "A real run binds key pair new_key" in line]
        assert plan and "ins-t0000001, ins-t0000002" in plan[0] and "unbinds %s" % OLD_KEY_ID in plan[0], stdout[-4000:]
        unbind = [r for r in records if r["task"].endswith("Show what a real run would unbind once the new key logs in (check mode)")]
        assert unbind and unbind[-1]["result"].get("changed"), unbind
        if key_pair_exists:
            bind = [r for r in records if r["task"].endswith("sending each instance's whole key set so that no key stops working")]
            assert bind and bind[-1]["result"].get("changed"), bind
        assert login(address(emu, "ins-t0000001"), old_file).ok


# -- the new private key and the targets, checked before the bind -----------------------------------------------------------


@requires_sshd
@pytest.mark.parametrize("problem", ["mode_0644", "another_key", "missing"])
def test_a_private_key_ssh_would_not_use_fails_before_the_bind(problem, ansible_env, tmp_path):
    _old_file, old_public = new_key(tmp_path / "old_key")
    new_file, new_public = new_key(tmp_path / "new_key.pem")
    if problem == "mode_0644":
        os.chmod(new_file, 0o644)
    elif problem == "another_key":
        new_key(tmp_path / "new_key.pem")  # another key at the path: not the imported public key's
    else:
        os.unlink(new_file)
    expected = {"mode_0644": "ssh cannot use the private key", "another_key": "does not belong to key pair new_key",
                "missing": "ssh cannot use the private key"}[problem]
    with ssh_emulator("add") as emu:
        emu.load_state(fleet_state(2, old_public))
        extra = role_vars(tmp_path, key_rotation_instance_filters={"tag:fleet": "rotation"}, key_rotation_new_public_key=new_public)
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
        assert rc != 0
        assert expected in stdout and "No instance was changed" in stdout, stdout[-4000:]
        assert writes(emu) == []  # checked before the import too
        assert emu.key_ids("ins-t0000001") == [OLD_KEY_ID]


@requires_sshd
@pytest.mark.parametrize("selector", [{"key_rotation_instance_filters": {"tag:fleet": "rotaton"}},
                                      {"key_rotation_instance_ids": ["ins-nothere1"]}])
def test_filters_or_ids_that_match_nothing_are_an_error(selector, ansible_env, tmp_path):
    _old_file, old_public = new_key(tmp_path / "old_key")
    _new_file, new_public = new_key(tmp_path / "new_key.pem")
    with ssh_emulator("add") as emu:
        emu.load_state(fleet_state(2, old_public))
        extra = role_vars(tmp_path, key_rotation_new_public_key=new_public, **selector)
        rc, _records, stdout, _stderr = run_role(ansible_env, emu, tmp_path, API_PLAY, "localhost,", extra)
        assert rc != 0
        assert ("match no instance" in stdout or "is an instance of the region" in stdout) and "Nothing was changed" in stdout, stdout[-4000:]
        assert writes(emu) == []

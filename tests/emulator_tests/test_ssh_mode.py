# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SSH mode (--ssh): instances answer the real OpenSSH client on loopback with exactly the keys bound to them."""

import ipaddress
import json
import os
import shutil
import signal
import subprocess

import pytest

from .sdk_calls import FAST_LATENCY, call, error_of, make_client, wait_for as wait_for_briefly
from harness import EmulatorError, EmulatorProcess, emulator_command  # pylint: disable=import-error
from shared_constants import EMULATOR_SECRET_ID, EMULATOR_SECRET_KEY  # pylint: disable=import-error
from ssh_client import LOGIN_USER, login, new_key  # pylint: disable=import-error
from sshd_setup import ensure_sshd  # pylint: disable=import-error

SSHD, WHY_NOT = ensure_sshd()
pytestmark = pytest.mark.skipif(SSHD is None, reason="SSH mode needs sshd: %s" % WHY_NOT)

DEBIAN = "ins-a1000004"  # STOPPED, no key in the seed
WEB1 = "ins-a1000001"  # RUNNING, skey-k1000001


@pytest.fixture(scope="module")
def ssh_emulator():
    with EmulatorProcess(extra_args=["--operation-latency", str(FAST_LATENCY), "--ssh"]) as emu:
        yield emu


@pytest.fixture
def emu(ssh_emulator):
    ssh_emulator.reset(everything=True)
    return ssh_emulator


def wait_for(predicate, timeout=30.0, interval=0.02):
    """A generous bound: on a loaded machine sshd and the emulator's SSH thread can take seconds to get a turn."""
    return wait_for_briefly(predicate, timeout=timeout, interval=interval)


def address(emu, instance_id):
    return emu.ssh()["instances"][instance_id]["address"]


def run_to_end(emu, client, action, params):
    call(client, action, params)
    emu.wait_idle()


def import_key(client, tmp_path, name):
    path, public = new_key(tmp_path / name, name)
    key_id = call(client, "ImportKeyPair", {"KeyName": name, "ProjectId": 0, "PublicKey": public})["KeyId"]
    return key_id, path


def start(emu, client, instance_id):
    run_to_end(emu, client, "StartInstances", {"InstanceIds": [instance_id]})
    wait_for(lambda: emu.ssh()["instances"][instance_id]["listening"])


def test_instances_show_only_loopback_addresses_and_running_ones_listen(emu):
    client = make_client(emu)
    instances = call(client, "DescribeInstances", {"Limit": 100})["InstanceSet"]
    for item in instances:
        assert [ipaddress.ip_address(ip).is_loopback for ip in item["PrivateIpAddresses"]] == [True], item["PrivateIpAddresses"]
        assert item["PublicIpAddresses"] is None
        assert item["DefaultLoginUser"] == ("Administrator" if "Windows" in item["OsName"] else LOGIN_USER)
    status = emu.ssh()
    assert status["user"] == LOGIN_USER != "root" and status["uid"] != 0 and status["port"] == 22
    listening = sorted(i for i, s in status["instances"].items() if s["listening"])
    assert listening == sorted(i["InstanceId"] for i in instances if i["InstanceState"] == "RUNNING" and "Windows" not in i["OsName"])
    assert len({s["address"] for s in status["instances"].values()}) == len(instances)


def test_ssh_mode_refuses_the_published_default_credential(emu):
    """Anyone may know the default credential; in SSH mode it would let them bind their key to an instance and log in."""
    assert emu.secret_id != EMULATOR_SECRET_ID and emu.secret_key != EMULATOR_SECRET_KEY  # the harness made a random one
    assert call(make_client(emu), "DescribeInstances")["TotalCount"] == 6
    assert error_of(make_client(emu, EMULATOR_SECRET_ID, EMULATOR_SECRET_KEY), "DescribeInstances").code.startswith("AuthFailure.")
    before = emu.state()
    with_default = dict(before, credentials=[{"secret_id": EMULATOR_SECRET_ID, "secret_key": EMULATOR_SECRET_KEY}])
    with pytest.raises(EmulatorError, match="HTTP 400.*published default credential"):
        emu.load_state(with_default)
    with pytest.raises(EmulatorError, match="HTTP 400.*published default credential"):
        emu.load_state(dict(before, credentials=[{"secret_id": "AKIDother", "secret_key": EMULATOR_SECRET_KEY}]))
    assert emu.state() == before
    assert error_of(make_client(emu, EMULATOR_SECRET_ID, EMULATOR_SECRET_KEY), "DescribeInstances").code.startswith("AuthFailure.")


@pytest.mark.parametrize("how", ["state file", "flags"])
def test_ssh_mode_will_not_start_with_the_default_credential_or_a_secret_on_the_command_line(tmp_path, how):
    command, env = emulator_command()
    env["TC_EMULATOR_TOKEN"] = "token-of-this-test"
    if how == "state file":
        state = tmp_path / "state.json"
        state.write_text(json.dumps({"credentials": [{"secret_id": EMULATOR_SECRET_ID, "secret_key": EMULATOR_SECRET_KEY}]}))
        args, expected = ["--state", str(state)], "published default credential"
    else:
        args, expected = ["--secret-id", "AKIDflag", "--secret-key", "visible-to-ps"], "TC_EMULATOR_SECRET_ID"
    proc = subprocess.run(command + ["--port", "0", "--ssh"] + args, capture_output=True, text=True, timeout=60, check=False, env=env)
    assert proc.returncode != 0 and proc.stdout == "" and expected in proc.stderr, proc.stderr
    assert "visible-to-ps" not in proc.stderr


def test_bound_key_logs_in_unbound_key_is_refused_stopped_instance_refuses_connections(emu, tmp_path):
    client = make_client(emu)
    alice, alice_file = import_key(client, tmp_path, "alice_ssh")
    _bob, bob_file = import_key(client, tmp_path, "bob_ssh")
    ip = address(emu, DEBIAN)
    assert login(ip, alice_file).unreachable  # STOPPED

    run_to_end(emu, client, "AssociateInstancesKeyPairs", {"InstanceIds": [DEBIAN], "KeyIds": [alice]})
    start(emu, client, DEBIAN)
    result = login(ip, alice_file)
    assert result.ok and "logged-in-as-%s" % LOGIN_USER in result.output, result.output
    assert login(ip, bob_file).refused

    run_to_end(emu, client, "DisassociateInstancesKeyPairs", {"InstanceIds": [DEBIAN], "KeyIds": [alice], "ForceStop": True})
    wait_for(lambda: emu.ssh()["instances"][DEBIAN]["listening"])
    assert login(ip, alice_file).refused

    run_to_end(emu, client, "StopInstances", {"InstanceIds": [DEBIAN]})
    wait_for(lambda: not emu.ssh()["instances"][DEBIAN]["listening"])
    assert login(ip, alice_file).unreachable


def test_create_key_pair_returns_a_private_key_that_logs_in(emu, tmp_path):
    client = make_client(emu)
    pair = call(client, "CreateKeyPair", {"KeyName": "made_here", "ProjectId": 0})["KeyPair"]
    key_file = tmp_path / "made_here"
    key_file.write_text(pair["PrivateKey"])
    key_file.chmod(0o600)
    derived = subprocess.run(["ssh-keygen", "-y", "-f", str(key_file)], capture_output=True, text=True, check=True).stdout.split()[:2]
    assert derived == pair["PublicKey"].split()[:2]
    assert "PrivateKey" not in call(client, "DescribeKeyPairs", {"KeyIds": [pair["KeyId"]]})["KeyPairSet"][0]

    run_to_end(emu, client, "AssociateInstancesKeyPairs", {"InstanceIds": [WEB1], "KeyIds": [pair["KeyId"]], "ForceStop": True})
    wait_for(lambda: emu.ssh()["instances"][WEB1]["listening"])
    assert login(address(emu, WEB1), key_file).ok


def test_replace_semantics_drop_the_old_key_from_the_instance(emu, tmp_path):
    emu.configure(bind_semantics="replace")
    client = make_client(emu)
    old, old_file = import_key(client, tmp_path, "old_key")
    new, new_file = import_key(client, tmp_path, "new_key")
    run_to_end(emu, client, "AssociateInstancesKeyPairs", {"InstanceIds": [DEBIAN], "KeyIds": [old]})
    run_to_end(emu, client, "AssociateInstancesKeyPairs", {"InstanceIds": [DEBIAN], "KeyIds": [new]})
    start(emu, client, DEBIAN)
    assert login(address(emu, DEBIAN), new_file).ok
    assert login(address(emu, DEBIAN), old_file).refused


@pytest.mark.nondeterministic
def test_broken_key_injection_reports_success_but_the_key_never_reaches_the_instance(emu, tmp_path):
    emu.configure(key_injection_failures=[DEBIAN])
    client = make_client(emu)
    key, key_file = import_key(client, tmp_path, "never_there")
    run_to_end(emu, client, "AssociateInstancesKeyPairs", {"InstanceIds": [DEBIAN, "ins-a1000005"], "KeyIds": [key]})
    assert emu.instance(DEBIAN)["LatestOperationState"] == "SUCCESS"
    assert key in emu.instance(DEBIAN)["LoginSettings"]["KeyIds"]
    assert emu.ssh()["instances"][DEBIAN]["authorized_key_ids"] == []
    assert emu.ssh()["instances"]["ins-a1000005"]["authorized_key_ids"] == ["skey-k1000002", key]
    start(emu, client, DEBIAN)
    start(emu, client, "ins-a1000005")
    assert login(address(emu, DEBIAN), key_file).refused
    assert login(address(emu, "ins-a1000005"), key_file).ok
    with pytest.raises(Exception, match="key_injection_failures"):
        emu.configure(key_injection_failures=["web-1"])


def test_command_line_fault_flag_and_two_emulators_take_different_addresses(tmp_path):
    with EmulatorProcess(extra_args=["--ssh", "--fault-key-injection", DEBIAN]) as first, EmulatorProcess(extra_args=["--ssh"]) as second:
        assert first.config()["key_injection_failures"] == [DEBIAN]
        assert first.ssh()["slot"] != second.ssh()["slot"]
        assert address(first, WEB1) != address(second, WEB1)


def listening_pids(ip, port=22):
    """The processes holding a listening TCP socket on ip:port (from /proc/net/tcp and each process's fds)."""
    wanted = "%s:%04X" % ("".join("%02X" % octet for octet in reversed(ipaddress.IPv4Address(ip).packed)), port)
    with open("/proc/net/tcp", encoding="ascii") as table:
        inodes = {"socket:[%s]" % row.split()[9] for row in list(table)[1:] if row.split()[1] == wanted and row.split()[3] == "0A"}
    pids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink("/proc/%s/fd/%s" % (pid, fd)) in inodes for fd in os.listdir("/proc/%s/fd" % pid)):
                pids.add(int(pid))
        except OSError:  # the process ended while we looked
            continue
    return pids


def another_emulator(pid, ours):
    """True for a live emulator other than ours: with emulators running side by side (xdist, the flake hunt), the
    slot our emulator freed is claimed by the next one to start, whose instance listens on the same address."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return pid != ours and b"cvm_emulator" in handle.read()
    except OSError:
        return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
        return handle.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.nondeterministic
@pytest.mark.parametrize("how", ["stop", "kill"])
def test_no_sshd_outlives_the_emulator(tmp_path, how):
    """A normal stop ends every session and removes the working files; even SIGKILL leaves no sshd and no listener."""
    emu = EmulatorProcess(extra_args=["--ssh"]).start()
    try:
        client = make_client(emu)
        key, key_file = import_key(client, tmp_path, "session_key")
        run_to_end(emu, client, "AssociateInstancesKeyPairs", {"InstanceIds": [WEB1], "KeyIds": [key], "ForceStop": True})
        ip = wait_for(lambda: emu.ssh()["instances"][WEB1]["listening"] and address(emu, WEB1))
        session = subprocess.Popen(["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                                    "-i", str(key_file), LOGIN_USER + "@" + ip, "echo started; sleep 60"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, stdin=subprocess.DEVNULL)
        assert session.stdout.readline().strip() == "started"
        pids = wait_for(lambda: emu.ssh()["session_pids"])
        work_dir = emu.ssh()["dir"]
        assert os.path.isdir(work_dir)
        # The checker below sees a listener where there is one: ours, while the emulator runs.
        ours = listening_pids(ip)
        assert ours and not any(another_emulator(pid, emu.process.pid) for pid in ours), ours
        if how == "kill":
            emu.process.send_signal(signal.SIGKILL)
            emu.process.wait(30)
    finally:
        emu.stop()
    wait_for(lambda: not any(alive(pid) for pid in pids))
    assert session.wait(20) != 0  # the client saw its session cut, not finished (the remote sleep is 60 s)
    # Nothing of ours listens on the address any more: no listener, or only another emulator that took the freed slot.
    # (No connect probe: another emulator may claim the slot between two looks, so only the owners are checked.)
    holders = listening_pids(ip)
    assert not holders & ours and all(another_emulator(pid, emu.process.pid) for pid in holders), holders
    if how == "stop":
        assert not os.path.exists(work_dir)
    else:  # a killed emulator cannot remove its working directory: only its files remain, no process
        shutil.rmtree(work_dir, ignore_errors=True)

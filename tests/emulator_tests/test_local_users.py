# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator is never a way in for another local user. An SSH-mode emulator is started as scripts/demo-ssh starts it
(tests/support/harness.py start, its record in a private folder); a throwaway unprivileged user, made with useradd and
run with setpriv, then tries what would have given it root: read the control token or the emulator's files, change the
state or an instance's keys through the control API without the token, sign with the published default credential, log in
as root with its own key. All of it is refused and changes nothing; and a legitimate login (a key bound by the emulator's
user) runs as an unprivileged account that cannot rewrite any instance's authorized keys nor read the emulator's secrets."""

import json
import os
import pwd
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from shared_constants import EMULATOR_SECRET_ID, EMULATOR_SECRET_KEY, REPO  # pylint: disable=import-error
from ssh_client import LOGIN_USER, login, new_key  # pylint: disable=import-error
from sshd_setup import ensure_sshd  # pylint: disable=import-error

SSHD, WHY_NOT = ensure_sshd()
pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: it creates a throwaway local user (useradd) and runs commands as it (setpriv)"),
    pytest.mark.skipif(SSHD is None, reason="SSH mode needs sshd: %s" % WHY_NOT),
]

HARNESS = REPO / "tests" / "support" / "harness.py"
HAND_SIGNER_DIR = Path(__file__).resolve().parent
WEB1 = "ins-a1000001"  # RUNNING, skey-k1000001
PLAIN_PATH = "/usr/local/bin:/usr/bin:/bin"
CONTROL_TOKEN_HEADER = "X-Emulator-Token"

# What the other user runs (its own python3, standard library only, plus the repository's hand signer, which anyone may read).
ATTEMPTS = r'''
import http.client, json, sys, time, urllib.error, urllib.request
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
from hand_signer import sign
url, public_key, default_id, default_key = sys.argv[2:6]
files = json.loads(sys.argv[6])
found = {}
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def control(method, path, document=None, headers=None):
    data = None if document is None else json.dumps(document).encode()
    request = urllib.request.Request(url + "/_emulator/" + path, data=data, method=method, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code

found["get_state"] = control("GET", "state")
found["get_state_guessed_token"] = control("GET", "state", headers={"X-Emulator-Token": "guess"})
found["put_state"] = control("PUT", "state", {
    "key_pairs": [{"KeyId": "skey-5tr00001", "KeyName": "stranger", "PublicKey": public_key}],
    "instances": [{"InstanceId": "ins-a1000001", "InstanceState": "RUNNING", "LoginSettings": {"KeyIds": ["skey-5tr00001"]}}]})
found["patch_keys"] = control("PATCH", "instances/ins-a1000001", {"KeyIds": ["skey-k1000001", "skey-k1000002"]})
found["reset"] = control("POST", "reset?all=1")
for name, path in files.items():
    try:
        with open(path, "rb") as handle:
            handle.read(1)
        found[name] = "read"
    except OSError as error:
        found[name] = "refused: %s" % error.strerror
body = json.dumps({"KeyName": "stranger", "ProjectId": 0, "PublicKey": public_key}).encode()
host = url.partition("://")[2]
now = int(time.time())
connection = http.client.HTTPConnection(host, timeout=10)
connection.request("POST", "/", body=body, headers={
    "Host": host, "Content-Type": "application/json", "X-TC-Action": "ImportKeyPair", "X-TC-Version": "2017-03-12",
    "X-TC-Timestamp": str(now), "X-TC-Region": "ap-guangzhou", "Authorization": sign(default_id, default_key, host, body, now)})
found["default_credential"] = json.loads(connection.getresponse().read())["Response"].get("Error", {}).get("Code", "accepted")
print(json.dumps(found))
'''


@pytest.fixture(scope="module")
def stranger():
    """A throwaway local user with a home and a shell, no password, removed afterwards with its home."""
    name = "cvm-stranger-%d" % os.getpid()  # one per test process (xdist workers run side by side)
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True, capture_output=True, timeout=60)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True, timeout=60)


def as_user(account, argv, timeout=60):
    """Run argv as `account` (setpriv: its uid, gid and groups), with a bare environment of its own: nothing of ours."""
    command = ["setpriv", "--reuid=%d" % account.pw_uid, "--regid=%d" % account.pw_gid, "--init-groups", "--"] + argv
    env = {"PATH": PLAIN_PATH, "HOME": account.pw_dir, "USER": account.pw_name, "LANG": "C.UTF-8"}
    return subprocess.run(command, env=env, cwd=account.pw_dir, capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)


class Started:
    """An emulator that `harness.py start` runs detached, as scripts/lib.sh's tc_with_emulator (scripts/demo-ssh) does."""

    def __init__(self, folder, *flags):
        self.record_path = folder / "emulator.json"
        started = subprocess.run([sys.executable, str(HARNESS), "start", "--record", str(self.record_path)] + list(flags),
                                 capture_output=True, text=True, timeout=120, check=False)
        assert started.returncode == 0, started.stderr
        self.exports = started.stdout
        self.record = json.loads(self.record_path.read_text(encoding="utf-8"))
        self.url, self.pid, self.env = self.record["url"], self.record["pid"], self.record["env"]
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def control(self, method, path, document=None):
        data = None if document is None else json.dumps(document).encode()
        request = urllib.request.Request(self.url + "/_emulator/" + path, data=data, method=method,
                                         headers={CONTROL_TOKEN_HEADER: self.env.get("TC_EMULATOR_TOKEN", "")})
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read())

    def stop(self):
        subprocess.run([sys.executable, str(HARNESS), "stop", "--record", str(self.record_path)], capture_output=True, timeout=60, check=False)


@pytest.fixture
def ssh_emulator(tmp_path):
    folder = tmp_path / "emulator"
    folder.mkdir(mode=0o700)
    emulator = Started(folder, "--ssh", "--operation-latency", "0.2")
    try:
        yield emulator
    finally:
        emulator.stop()


def test_another_local_user_cannot_use_the_emulator_to_get_in(stranger, ssh_emulator, tmp_path):
    emu = ssh_emulator
    ssh_status = emu.control("GET", "ssh")
    ip, work_dir = ssh_status["instances"][WEB1]["address"], ssh_status["dir"]
    before = emu.control("GET", "state")

    assert as_user(stranger, ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger.pw_dir + "/key"]).returncode == 0
    public_key = Path(stranger.pw_dir, "key.pub").read_text(encoding="ascii").strip()
    files = {"record": str(emu.record_path), "emulator_environment": "/proc/%d/environ" % emu.pid,
             "host_key": os.path.join(work_dir, "host_ed25519_key"), "authorized_keys": os.path.join(work_dir, "authorized_keys." + WEB1)}
    attempt = as_user(stranger, ["python3", "-c", ATTEMPTS, str(HAND_SIGNER_DIR), emu.url, public_key, EMULATOR_SECRET_ID,
                                 EMULATOR_SECRET_KEY, json.dumps(files)])
    assert attempt.returncode == 0, attempt.stderr
    found = json.loads(attempt.stdout)
    assert {name: found[name] for name in ("get_state", "get_state_guessed_token", "put_state", "patch_keys", "reset")} == {
        "get_state": 401, "get_state_guessed_token": 401, "put_state": 401, "patch_keys": 401, "reset": 401}
    assert all(found[name].startswith("refused: Permission denied") for name in files), found
    assert found["default_credential"].startswith("AuthFailure."), found
    assert emu.control("GET", "state") == before  # nothing changed: no key pair of its own, web-1's keys as they were
    assert emu.control("GET", "requests")["ok_counts"] == {}
    # The token is handed over in the environment and the private record, never on a command line (ps shows those to all).
    assert "TC_EMULATOR_TOKEN" in emu.exports and emu.env["TC_EMULATOR_TOKEN"] not in " ".join(emu.record["command"])
    assert (os.stat(emu.record_path).st_mode & 0o777, os.stat(emu.record_path.parent).st_mode & 0o777) == (0o600, 0o700)

    as_root = as_user(stranger, ["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                                 "-o", "IdentitiesOnly=yes", "-F", "/dev/null", "-i", stranger.pw_dir + "/key", "root@" + ip, "id -u"])
    assert as_root.returncode == 255 and "Permission denied" in as_root.stderr, as_root.stdout + as_root.stderr

    # The emulator's own user binds a key: that login works, as an unprivileged account, never root, even with a bound key.
    key_path, key_line = new_key(tmp_path / "own_key")
    emu.control("PUT", "state", dict(before, key_pairs=before["key_pairs"] + [{"KeyId": "skey-0wn00001", "KeyName": "own", "PublicKey": key_line}]))
    emu.control("PATCH", "instances/" + WEB1, {"KeyIds": ["skey-0wn00001"]})
    assert login(ip, key_path, user="root", command="id -u").refused
    probe = ("id -u; for f in %(dir)s/authorized_keys.* %(dir)s/sshd_config %(dir)s/host_ed25519_key; do "
             "(echo x >> \"$f\") 2>/dev/null && echo WROTE \"$f\"; done; "
             "(echo x > %(dir)s/new_file) 2>/dev/null && echo WROTE-DIR; cat %(record)s >/dev/null 2>&1 && echo READ-RECORD; "
             "cat /proc/%(pid)d/environ >/dev/null 2>&1 && echo READ-EMULATOR-ENV; "
             "cat /proc/$PPID/environ /proc/$$/environ 2>/dev/null | tr '\\0' '\\n' | grep -c '^TC_EMULATOR\\|^TENCENTCLOUD' || true"
             % {"dir": work_dir, "record": emu.record_path, "pid": emu.pid})
    result = login(ip, key_path, command=probe)
    assert result.ok, result.output
    lines = result.output.split()
    assert lines[0] == str(pwd.getpwnam(LOGIN_USER).pw_uid) != "0" and LOGIN_USER == emu.control("GET", "ssh")["user"] != "root"
    assert lines[1:] == ["0"], result.output  # no file written, no secret read, no emulator variable in the session's environment

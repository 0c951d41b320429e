# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Log in to the emulator's SSH-mode instances with the real OpenSSH client (ssh), and key files for it.

    from ssh_client import login, new_key
    private_path, public_line = new_key(tmp_path / "alice")
    result = login("127.100.0.1", private_path)     # result.ok, result.refused, result.unreachable, result.output

LOGIN_USER is the user the emulator's instances log in, computed as the emulator does (cvm_emulator/ssh_hosts.py,
login_account()): the unprivileged account cvm-login when the emulator runs as root, else the emulator's own user (the
harness runs it as this process's user). Never root. GET /_emulator/ssh "user" says the same.

Only loopback addresses are accepted. Host keys are neither checked nor remembered (the emulator makes a new host key
each run); BatchMode makes a refused key fail at once instead of asking for a password. Standard library only.
"""

import ipaddress
import os
import pwd
import subprocess
from collections import namedtuple

LOGIN_ACCOUNT = "cvm-login"  # cvm_emulator.ssh_hosts.LOGIN_ACCOUNT
LOGIN_USER = LOGIN_ACCOUNT if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
SSH_OPTIONS = (
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "ConnectTimeout=5",
    "-o",
    "LogLevel=ERROR",
    "-F",
    "/dev/null",
)


class LoginResult(namedtuple("LoginResult", "rc output")):
    """What ssh did: its exit code and its output."""

    @property
    def ok(self):
        return self.rc == 0

    @property
    def refused(self):
        """The server answered and refused the key."""
        return self.rc == 255 and "Permission denied" in self.output

    @property
    def unreachable(self):
        """Nothing listens there (a stopped instance)."""
        return self.rc == 255 and "Connection refused" in self.output


def login(address, key_path, command="echo logged-in-as-$(id -un)", timeout=30, user=None):
    """Run `command` over SSH as `user` (default: LOGIN_USER, the emulator's login user) on a loopback address with one private key file."""
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError("only loopback addresses are logged in to, not %s" % address)
    proc = subprocess.run(
        ["ssh", *SSH_OPTIONS, "-i", str(key_path), "%s@%s" % (user or LOGIN_USER, address), command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return LoginResult(proc.returncode, proc.stdout + proc.stderr)


def new_key(path, comment="test"):
    """A new ed25519 key at path (private, mode 0600) and path.pub; returns (path, public key line)."""
    path = str(path)
    for existing in (path, path + ".pub"):
        if os.path.exists(existing):
            os.unlink(existing)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], check=True, capture_output=True, timeout=30)
    with open(path + ".pub", encoding="ascii") as handle:
        return path, handle.read().strip()

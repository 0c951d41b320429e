# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OpenSSH's server for the emulator's SSH mode: find it, or install Debian's openssh-server when running as root.

From Python (tests/support is on pytest's pythonpath):

    from sshd_setup import ensure_sshd
    sshd, reason = ensure_sshd()      # (path, None), or (None, why it cannot be had)

From a shell: `python tests/support/sshd_setup.py` installs it if needed and prints its path (exit 1 with the reason).

The install never starts the system's own sshd service: a temporary policy-rc.d forbids it, so nothing listens on
port 22 of every address (which would take the loopback addresses the emulator's instances use). Concurrent callers
(pytest-xdist workers) install once, under a file lock (apt_install). Standard library only.
"""

import os
import shutil
import sys
import tempfile

from apt_install import apt_get, ensure_installed  # pylint: disable=import-error

SSHD = "/usr/sbin/sshd"
POLICY_RC_D = "/usr/sbin/policy-rc.d"
LOCK_FILE = os.path.join(tempfile.gettempdir(), "tencentcloud-cvm-sshd-install.lock")


def sshd_path():
    """The sshd executable, or None."""
    found = shutil.which("sshd", path=os.pathsep.join(["/usr/sbin", "/usr/local/sbin", os.environ.get("PATH", "")]))
    return found or (SSHD if os.access(SSHD, os.X_OK) else None)


def install_sshd():
    """apt-get update, then install openssh-server without starting its service. Raises OSError when that fails."""
    made_policy = not os.path.exists(POLICY_RC_D)
    if made_policy:  # exit 101: "action forbidden", so the package's scripts do not start sshd on 0.0.0.0:22
        with open(POLICY_RC_D, "w", encoding="utf-8") as handle:
            handle.write("#!/bin/sh\nexit 101\n")
        os.chmod(POLICY_RC_D, 0o755)
    try:
        apt_get("update")
        apt_get("install", "-y", "--no-install-recommends", "openssh-server")
    finally:
        if made_policy:
            os.unlink(POLICY_RC_D)


def ensure_sshd():
    """(path of sshd, None) when it is there or could be installed; (None, reason) otherwise."""
    return ensure_installed(sshd_path, install_sshd, LOCK_FILE, "sshd (Debian's openssh-server)")


def main():
    path, reason = ensure_sshd()
    if path is None:
        print(reason, file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

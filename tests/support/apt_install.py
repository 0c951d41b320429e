# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Installing a Debian package the tests need, once, as root: what sshd_setup (sshd) and rulebook_setup (Java) share.

    found, reason = ensure_installed(find, install, LOCK_FILE, "sshd (Debian's openssh-server)")

find() returns what was looked for (a path) or None; install() runs apt_get(...) and raises OSError when that fails.
Concurrent callers (pytest-xdist workers) install once, under the file lock. Standard library only.
"""

import fcntl
import os
import shutil
import subprocess

APT_TIMEOUT = 600


def apt_get(*args):
    """Run apt-get non-interactively; raise OSError with the end of its output when it fails."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = subprocess.run(["apt-get"] + list(args), env=env, capture_output=True, text=True, timeout=APT_TIMEOUT, check=False)
    if proc.returncode:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise OSError("apt-get %s failed (exit %d): %s" % (" ".join(args), proc.returncode, tail))


def ensure_installed(find, install, lock_file, what):
    """(what find() returns, None) when it is there or could be installed; (None, reason) otherwise."""
    found = find()
    if found:
        return found, None
    if os.geteuid() != 0:
        return None, "%s is not installed and installing it needs root" % what
    if not shutil.which("apt-get"):
        return None, "%s is not installed and there is no apt-get to install it with" % what
    with open(lock_file, "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = find()  # another process may have installed it while this one waited
        if found:
            return found, None
        try:
            install()
        except (OSError, subprocess.SubprocessError) as error:
            return None, "installing %s failed: %s" % (what, error)
    found = find()
    return (found, None) if found else (None, "%s was installed but is not found" % what)

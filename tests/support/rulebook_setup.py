# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-rulebook and the Java it needs, for the event source's end-to-end test: find them, or install Debian's JRE.

ansible-rulebook (with drools-jpy, its rule engine) comes from tests/requirements.txt, which scripts/lib.sh's tc_venv
installs into the project venv; its rule engine runs on Java 17 or newer, a system package. From Python (tests/support is
on pytest's pythonpath):

    from rulebook_setup import ensure_rulebook
    command, env, reason = ensure_rulebook()   # (["…/ansible-rulebook"], {"JAVA_HOME": …}, None), or (None, None, why not)

From a shell: `python tests/support/rulebook_setup.py` installs Java if needed and prints the ansible-rulebook path (exit 1
with the reason). Java is installed as root with apt-get (openjdk-17-jre-headless, else the distribution's default JRE),
once under a file lock (apt_install, as sshd_setup installs sshd). Standard library only.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from apt_install import apt_get, ensure_installed  # pylint: disable=import-error

MIN_JAVA = 17
JRE_PACKAGES = ("openjdk-17-jre-headless", "default-jre-headless")
LOCK_FILE = os.path.join(tempfile.gettempdir(), "tencentcloud-cvm-java-install.lock")


def rulebook_path():
    """ansible-rulebook of this Python's environment (the project venv), else from PATH; or None."""
    beside = os.path.join(os.path.dirname(sys.executable), "ansible-rulebook")
    return beside if os.access(beside, os.X_OK) else shutil.which("ansible-rulebook")


def java_home():
    """(JAVA_HOME of a Java >= MIN_JAVA, None) or (None, why not)."""
    java = shutil.which("java", path=os.pathsep.join(filter(None, [os.path.join(os.environ.get("JAVA_HOME", ""), "bin"), os.environ.get("PATH", "")])))
    if not java:
        return None, "no java on PATH"
    proc = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    found = re.search(r'version "(\d+)', proc.stderr + proc.stdout)
    if not found or int(found.group(1)) < MIN_JAVA:
        return None, "%s is not Java %d or newer (%s)" % (java, MIN_JAVA, (proc.stderr or proc.stdout).strip().splitlines()[:1])
    return os.path.dirname(os.path.dirname(os.path.realpath(java))), None


def _installable(package):
    proc = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True, timeout=120, check=False)
    return "Candidate:" in proc.stdout and "Candidate: (none)" not in proc.stdout


def install_java():
    """apt-get update, then install the first JRE package Debian offers. Raises OSError when that fails."""
    apt_get("update")
    package = next((name for name in JRE_PACKAGES if _installable(name)), None)
    if package is None:
        raise OSError("apt offers none of %s" % ", ".join(JRE_PACKAGES))
    apt_get("install", "-y", "--no-install-recommends", package)


def ensure_java():
    """(JAVA_HOME, None) when Java is there or could be installed; (None, reason) otherwise."""
    home, reason = ensure_installed(lambda: java_home()[0], install_java, LOCK_FILE, "Java %d or newer" % MIN_JAVA)
    return home, None if home else "ansible-rulebook needs Java %d or newer (%s): %s" % (MIN_JAVA, java_home()[1], reason)


def ensure_rulebook():
    """(command, environment additions, None) to run ansible-rulebook; (None, None, reason) when it cannot run here."""
    rulebook = rulebook_path()
    if rulebook is None:
        return None, None, ("ansible-rulebook is not installed in this environment: it is in tests/requirements.txt (source scripts/lib.sh; tc_venv)")
    home, reason = ensure_java()
    if home is None:
        return None, None, reason
    return [rulebook], {"JAVA_HOME": home}, None


def main():
    command, _env, reason = ensure_rulebook()
    if command is None:
        print(reason, file=sys.stderr)
        return 1
    print(command[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())

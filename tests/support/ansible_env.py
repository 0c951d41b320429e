# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one builder of the environment that tests, the benchmark and the AWX tests run ansible (and the venv's other
tools) in.

    from ansible_env import BIN, ansible_environment, clean_environment
    env = ansible_environment(tmp_path, collections_path, emulator=emu)    # ansible-playbook against the emulator
    env = clean_environment(home)                                          # ansible-galaxy, ansible-builder, podman

What reaches a run comes from here and from the caller's own settings, never from the shell that runs pytest:
scripts/lib.sh exports TENCENTCLOUD_*, ANSIBLE_COLLECTIONS_PATH and PYTHONPATH for its own runs, a developer's
shell may hold proxies, and ~/.tencentcloud/credentials or ~/.ansible.cfg must not be read. Standard library only.
"""

import os
import sys
from pathlib import Path

from shared_constants import PROXY_VARIABLES  # pylint: disable=import-error

BIN = Path(sys.executable).parent  # the venv's bin: ansible, ansible-playbook, ansible-runner, ansible-galaxy, ...


def clean_environment(home=None, proxies=False, **extra):
    """os.environ without Tencent Cloud settings, Ansible settings and PYTHONPATH (and without proxies unless
    `proxies`), with the venv's bin first on PATH and HOME moved to `home` when given; then `extra` (a None value
    removes that variable)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TENCENTCLOUD_", "ANSIBLE_")) and name != "PYTHONPATH" and (proxies or name not in PROXY_VARIABLES)
    }
    env["PATH"] = os.pathsep.join(filter(None, [str(BIN), env.get("PATH")]))
    if home is not None:
        env["HOME"] = str(home)
    return _updated(env, extra)


def ansible_environment(home, collections_path=None, emulator=None, credentials=True, **extra):
    """clean_environment(home) plus what every ansible run here shares: ansible's home and temporary files under
    `home`, no colour, no host key checking, no deprecation warnings or retry files, this Python as the module
    interpreter, and the collections path when given (else none: an AWX project brings its own). With an
    emulator (a harness EmulatorProcess), the variables that point the modules at it, or with credentials=False only
    its region and endpoint. Then `extra` (a None value removes that variable)."""
    home = Path(home)
    env = clean_environment(home)
    env.update(
        ANSIBLE_HOME=str(home / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(home / "ansible-tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    if collections_path is not None:
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path)
    if emulator is not None:
        env.update(emulator.env() if credentials else {"TENCENTCLOUD_REGION": emulator.region, "TENCENTCLOUD_ENDPOINT": emulator.url})
    return _updated(env, extra)


def _updated(env, extra):
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env

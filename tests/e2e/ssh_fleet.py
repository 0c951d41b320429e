# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the SSH end-to-end tests share: the emulator in SSH mode under a bind reading, a *.cvm.yml inventory, and
ansible-playbook over Ansible's ssh connection (hosts from the inventory plugin, ansible_host on loopback)."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from ansible_env import BIN  # pylint: disable=import-error
from e2e_support import read_results  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from ssh_client import LOGIN_USER  # pylint: disable=import-error
from sshd_setup import ensure_sshd  # pylint: disable=import-error

SSHD, WHY_NOT = ensure_sshd()
requires_sshd = pytest.mark.skipif(SSHD is None, reason="the emulator's SSH mode needs sshd: %s" % WHY_NOT)

# Ansible's ssh connection: no host key checks (a new host key each run), no prompts, no lingering control masters.
SSH_ARGS = ("-o ControlMaster=no -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes "
            "-o IdentitiesOnly=yes -o LogLevel=ERROR")


def ssh_emulator(semantics, *extra):
    return EmulatorProcess(extra_args=["--ssh", "--operation-latency", "0.2", "--bind-semantics", semantics] + list(extra))


def ssh_env(extra=None):
    env = {"ANSIBLE_SSH_ARGS": SSH_ARGS, "ANSIBLE_TIMEOUT": "10", "ANSIBLE_SSH_RETRIES": "0", "ANSIBLE_PIPELINING": "1"}
    env.update(extra or {})
    return env


def write_inventory(tmp_path, emu, name="fleet.cvm.yml", filters=None, extra=""):
    """A file for the collection's inventory plugin: hosts named by instance ID, ansible_host = the loopback private IP,
    ansible_user = the emulator's login user (never root), the instance's own python3 (interpreter discovery): the login
    user cannot run this venv's interpreter, which may live in another user's home."""
    path = tmp_path / name
    path.write_text("plugin: tencentcloud.cvm.cvm\nendpoint: %s\nregions: [%s]\nstrict: true\n" % (emu.url, emu.region)
                    + ("filters: %s\n" % json.dumps(filters) if filters else "")
                    + "compose:\n  ansible_user: \"'%s'\"\n  ansible_python_interpreter: \"'auto_silent'\"\n" % LOGIN_USER
                    + textwrap.dedent(extra))
    return path


def run_playbook(ansible_env, emu, tmp_path, text, inventory, extra_vars=None, env=None, limit=None, name="play.yml"):
    """ansible-playbook over ssh; returns (rc, [result records], stdout, stderr)."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(path), "--forks", "10"]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    if limit:
        cmd += ["--limit", limit]
    run_env = ansible_env(emu, ssh_env(env))
    proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, read_results(proc, run_env), proc.stdout, proc.stderr


def by_host(records, task):
    return {record["host"]: record for record in records if record["task"] == task}

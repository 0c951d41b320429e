# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end fixtures: the real module, run by the real `ansible` and `ansible-playbook`, over the real SDK, against the emulator."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# tests/support is on pytest's pythonpath (pytest.ini).
from collection_path import collections_path as _collections_path  # pylint: disable=import-error
from harness import Emulator  # pylint: disable=import-error
from shared_constants import REPO, without_proxies  # noqa: F401  pylint: disable=import-error,unused-import

MODULE = "tencentcloud.cvm.cvm_keypair_association"
WRITE_ACTIONS = ("AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs")
BIN = Path(sys.executable).parent


# The one scripts/ exports, or a link made here; also on sys.path, so that tests can import the collection's own
# tables (retry caps, ...).
COLLECTIONS_PATH = _collections_path()


@pytest.fixture(scope="session")
def collections_path():
    return COLLECTIONS_PATH


@pytest.fixture
def emulator():
    with Emulator(extra_args=["--operation-latency", "0.2"]) as emu:
        yield emu


class AnsibleRun:
    def __init__(self, proc, result):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.result = result

    @property
    def failed(self):
        return bool(self.result.get("failed"))

    @property
    def changed(self):
        return bool(self.result.get("changed"))


@pytest.fixture
def ansible_env(collections_path, tmp_path):
    counter = itertools.count()

    def build(emu=None, extra=None, credentials=True):
        env = {k: v for k, v in without_proxies().items() if not k.startswith("TENCENTCLOUD_")}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=collections_path,
            ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="result_log",
            ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
            RESULT_LOG=str(tmp_path / ("results-%d.json" % next(counter))),
            ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
            ANSIBLE_HOME=str(tmp_path / "ansible-home"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_HOST_KEY_CHECKING="0",
            ANSIBLE_DEPRECATION_WARNINGS="0",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            HOME=str(tmp_path),  # no stray ~/.tencentcloud/credentials
        )
        if emu is not None:
            env.update(emu.env() if credentials else {"TENCENTCLOUD_REGION": emu.region, "TENCENTCLOUD_ENDPOINT": emu.url})
        env.update(extra or {})
        return env
    return build


def read_results(proc, env):
    """The task results the result_log callback wrote for a finished ansible run."""
    try:
        with open(env["RESULT_LOG"]) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        raise AssertionError("no results from ansible (rc=%d)\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, proc.stdout, proc.stderr)) from None


@pytest.fixture
def adhoc(ansible_env):
    """Run the module ad hoc with `ansible localhost -m ... -a <json>`; return the task result."""
    def run(emu, module_args, check=False, diff=False, verbosity=0, env=None, credentials=True, module=MODULE):
        cmd = [str(BIN / "ansible"), "localhost", "-m", module, "-a", json.dumps(module_args)]
        cmd += ["--check"] * check + ["--diff"] * diff + (["-" + "v" * verbosity] if verbosity else [])
        run_env = ansible_env(emu, env, credentials)
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=600, check=False)
        records = read_results(proc, run_env)
        return AnsibleRun(proc, records[-1]["result"])
    return run


@pytest.fixture
def playbook(ansible_env, tmp_path):
    """Run a playbook text with ansible-playbook; return (rc, results by task name, stdout, stderr)."""
    def run(emu, text, check=False, diff=False, verbosity=0, env=None, credentials=True, extra_vars=None, inventory="localhost,", forks=None):
        path = tmp_path / "playbook.yml"
        path.write_text(textwrap.dedent(text))
        cmd = [str(BIN / "ansible-playbook"), "-i", inventory, "-c", "local", str(path)] + (["--forks", str(forks)] if forks else [])
        cmd += ["--check"] * check + ["--diff"] * diff + (["-" + "v" * verbosity] if verbosity else [])
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        run_env = ansible_env(emu, env, credentials)
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=900, check=False)
        tasks = {r["task"]: r["result"] for r in read_results(proc, run_env)}
        return proc.returncode, tasks, proc.stdout, proc.stderr
    return run


def writes(emu, since=0):
    """The write requests the emulator received (whatever their outcome)."""
    return [r for r in emu.requests(since=since)["requests"] if r["action"] in WRITE_ACTIONS]


def keys_of(emu, instance_id):
    return sorted((emu.instance(instance_id).get("LoginSettings") or {}).get("KeyIds") or [])

# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end fixtures: the real module, run by the real `ansible` and `ansible-playbook`, over the real SDK, against the emulator."""

from __future__ import annotations

import itertools
import json
import subprocess
import textwrap

import pytest

# tests/support and tests/e2e are on pytest's pythonpath (pytest.ini).
from ansible_env import BIN, ansible_environment  # pylint: disable=import-error
from collection_path import collections_path as _collections_path, import_through_ansible  # pylint: disable=import-error
from e2e_support import MODULE, AnsibleRun, HungEndpoint, read_results, result_log_settings  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error

# The one scripts/ exports, or a link made here. Set up at import, before any test module is collected: test modules
# import the collection's own tables (retry caps, ...) at their top, through ansible's collection finder.
_COLLECTIONS_PATH = _collections_path()
import_through_ansible(_COLLECTIONS_PATH)


@pytest.fixture(scope="session")
def collections_path():
    return _COLLECTIONS_PATH


@pytest.fixture
def emulator():
    with EmulatorProcess(extra_args=["--operation-latency", "0.2"]) as emu:
        yield emu


@pytest.fixture
def hung():
    """A local endpoint that accepts connections and never answers."""
    endpoint = HungEndpoint()
    yield endpoint
    endpoint.close()


@pytest.fixture
def ansible_env(collections_path, tmp_path):
    """build(emu=None, extra=None, credentials=True): the environment of one ansible run against `emu`, its results
    logged to a new file (read them with e2e_support.read_results)."""
    counter = itertools.count()

    def build(emu=None, extra=None, credentials=True):
        return ansible_environment(tmp_path, collections_path, emulator=emu, credentials=credentials,
                                   **dict(result_log_settings(tmp_path / ("results-%d.json" % next(counter))), **(extra or {})))
    return build


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

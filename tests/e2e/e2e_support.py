# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the end-to-end tests import besides fixtures: the results an ansible run logged, and the binding writes the
emulator received. The fixtures (an emulator, an ansible environment, ad hoc and playbook runs) are in conftest.py;
tests ask for them by name and never import conftest.

    from e2e_support import binding_writes, read_results    # tests/e2e is on pytest's pythonpath (pytest.ini)
"""

from __future__ import annotations

import json
import re
import socket
import textwrap
import threading
from pathlib import Path

from cvm_emulator import KEY_BINDING_ACTIONS  # pylint: disable=import-error

MODULE = "tencentcloud.cvm.cvm_keypair_association"
CALLBACK_PLUGINS = Path(__file__).resolve().parent / "callback_plugins"

GAVE_UP = re.compile(r"Gave up after (\d+) attempts? in (\d+\.\d) s")  # the module's message when api_deadline passed

MODULE_DEFAULTS_PLAY = """\
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/tencentcloud.cvm.tencentcloud:
      secret_id: "{{ sid }}"
      secret_key: "{{ skey }}"
      region: ap-guangzhou
      endpoint: "{{ url }}"
  tasks:
"""


def result_log_settings(path):
    """The variables that make ansible write every task result to `path` as JSON (callback_plugins/result_log.py)."""
    return {
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_PLUGINS),
        "ANSIBLE_CALLBACKS_ENABLED": "result_log",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "RESULT_LOG": str(path),
    }


def module_defaults_play(tasks):
    """A playbook of these tasks (YAML, a list) that get every connection option from module_defaults for the collection's
    action group; run it with credentials=False and extra_vars=module_defaults_vars(emu)."""
    return MODULE_DEFAULTS_PLAY + textwrap.indent(textwrap.dedent(tasks).strip("\n") + "\n", "    ")


def module_defaults_vars(emu):
    """The extra variables module_defaults_play's options are filled from."""
    return {"sid": emu.secret_id, "skey": emu.secret_key, "url": emu.url}


def read_results(proc, env):
    """The task results the result_log callback wrote for a finished ansible run."""
    try:
        with open(env["RESULT_LOG"], encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        raise AssertionError("no results from ansible (rc=%d)\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, proc.stdout, proc.stderr)) from None


class AnsibleRun:
    """One finished ad hoc run: its exit status, output and the task's result."""

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


def binding_writes(emu, since=0):
    """The AssociateInstancesKeyPairs and DisassociateInstancesKeyPairs requests the emulator received, whatever their
    outcome (the emulator's write_count counts every write action)."""
    return [r for r in emu.requests(since=since)["requests"] if r["action"] in KEY_BINDING_ACTIONS]


class HungEndpoint:
    """Accepts every connection and never sends a byte; counts the connections."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.accepted = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                connection, _address = self.server.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self):
        self.server.close()
        for connection in self.accepted:
            connection.close()

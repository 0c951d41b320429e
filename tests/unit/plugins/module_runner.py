# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a module's main() in-process for the unit tests: its arguments in, its exit_json/fail_json result out.

tests/unit/conftest.py's `run_module` fixture is the way tests use this; the helpers live here because conftest.py
files hold fixtures only (docs/architecture.md)."""

from __future__ import annotations

import contextlib
import json
from unittest import mock

from ansible.module_utils import basic

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19 has no helper; setting _ANSIBLE_ARGS is what it replaces.

    @contextlib.contextmanager  # the same contract as ansible-core's helper
    def patch_module_args(args=None):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()):
            yield


__all__ = ["ModuleExit", "patch_module_args"]


class ModuleExit(Exception):
    """Raised instead of sys.exit by exit_json/fail_json, carrying the result."""

    def __init__(self, failed, result):
        super().__init__(result)
        self.failed = failed
        self.result = result

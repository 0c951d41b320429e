# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A test-only callback: writes every task result to the JSON file named by $RESULT_LOG, next to the normal output."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: result_log
type: aggregate
short_description: Write task results to a JSON file for the tests
description:
  - Test helper of tencentcloud.cvm; writes [{task, host, status, result, duration}] to the file named by RESULT_LOG.
requirements:
  - enabled in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_log"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []
        self.started = {}  # task uuid -> when it started (time.monotonic), for the records' `duration`

    def _record(self, result, status):
        task = result._task
        data = self._clean(result._result)
        # ansible-core 2.19 keeps the outcome out of _result; put it back where tests look for it.
        data.setdefault("failed", status == "failed")
        started = self.started.get(task._uuid)
        duration = None if started is None else time.monotonic() - started
        self.records.append({"task": task.get_name(), "host": result._host.get_name(), "status": status, "result": data,
                             "duration": duration})
        self._flush()

    def _clean(self, data):
        return json.loads(json.dumps(data, default=str))

    def _flush(self):
        path = os.environ.get("RESULT_LOG")
        if path:
            with open(path, "w") as handle:
                json.dump(self.records, handle)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.started[task._uuid] = time.monotonic()

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Numbers ansible-core cannot convert safely ('Infinity' crashes its int conversion, '1e999999999' hangs it) are refused
by name before AnsibleModule converts them, from a module's arguments (read through basic._load_params) or the environment."""

from __future__ import annotations

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils._base import TencentCloudModule

ARGS = {"secret_id": "AKIDx", "secret_key": "SECRETVALUE", "region": "ap-guangzhou"}


def start():
    TencentCloudModule({"wait_timeout": {"type": "int", "default": 300}}).finish(lambda: {"changed": False})


@pytest.mark.parametrize(
    "args, environment, message",
    [
        (dict(ARGS, wait_timeout="Infinity"), {}, "wait_timeout must be a whole number of seconds from 1 to 86400 (one day), got 'Infinity'."),
        (dict(ARGS, request_timeout="1e999999999"), {}, "request_timeout must be a whole number of seconds from 1 to 86400 (one day), got '1e999999999'."),
        (ARGS, {"TENCENTCLOUD_API_DEADLINE": "-Infinity"}, "api_deadline must be a whole number of seconds from 1 to 86400 (one day), got '-Infinity'."),
        (ARGS, {"TENCENTCLOUD_ROLE_DURATION": "NaN"}, "role_duration must be a whole number, got 'NaN'."),
    ],
)
def test_refused_by_name_through_finish(run_module, monkeypatch, args, environment, message):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    failed, result = run_module(start, args)
    assert failed and result["msg"] == message + " Nothing was changed."
    assert result["changed"] is False


@pytest.mark.parametrize(
    "given, environment, found",
    [
        ({"api_deadline": "60"}, {}, {}),
        ({"api_deadline": 60}, {"TENCENTCLOUD_API_DEADLINE": "Infinity"}, {}),  # given: the environment is not read
        ({}, {"TENCENTCLOUD_API_DEADLINE": ""}, {}),  # empty: not set
        ({}, {"TENCENTCLOUD_API_DEADLINE": "1e31"}, {"api_deadline": "1e31"}),
        ({"secret_id": "Infinity"}, {}, {}),  # not a number option
    ],
)
def test_unconvertible_numbers(monkeypatch, given, environment, found):
    monkeypatch.delenv("TENCENTCLOUD_API_DEADLINE", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert _credentials.unconvertible_numbers(_credentials.connection_argument_spec(), given) == found

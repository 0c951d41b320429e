# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The error table and the exact failure payload a module produces for each class of error."""

from __future__ import annotations

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _errors
from ansible_collections.tencentcloud.cvm.plugins.module_utils._base import TencentCloudModule
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError

ARGS = {"secret_id": "AKIDx", "secret_key": "SECRETVALUE", "region": "ap-guangzhou"}


def fail_with(error, attempting="bind key pairs"):
    def main():
        module = TencentCloudModule({}, supports_check_mode=True)
        module.result["request_ids"] = ["req-earlier"]
        module.fail_api(error, attempting)

    return main


@pytest.mark.parametrize(
    "code, retry, hint_fragment",
    [
        ("AuthFailure.SignatureFailure", None, "secret_key"),
        ("AuthFailure.SecretIdNotFound", None, "secret_id"),
        ("AuthFailure.SignatureExpire", None, "clock"),
        ("AuthFailure.TokenFailure", None, "security_token"),
        ("UnauthorizedOperation", None, "CAM"),
        ("UnsupportedRegion", None, "region"),
        ("UnsupportedOperation.InstanceStateRunning", None, "force_stop"),
        ("UnsupportedOperation.InstanceOsWindows", None, "Windows"),
        ("InvalidInstanceId.NotFound", None, "instance_ids"),
        ("InvalidKeyPairId.NotFound", None, "key_ids"),
        ("RequestLimitExceeded", _errors.THROTTLED, "forks"),
        ("InternalError", _errors.TRANSIENT, "request_id"),
        ("ClientNetworkError", _errors.TRANSIENT, "endpoint"),
        ("ClientNetworkError.Timeout", _errors.TRANSIENT, "api_deadline"),
        ("ClientNetworkError.ConnectionRefused", _errors.TRANSIENT, "port"),
        ("ClientNetworkError.HostNotFound", _errors.TRANSIENT, "DNS"),
        ("ServerNetworkError", _errors.TRANSIENT, "endpoint"),
        ("OperationDenied.InstanceOperationInProgress", _errors.BUSY, "run again"),
        ("MutexOperation.TaskRunning", _errors.BUSY, "run again"),
        ("LimitExceeded.SomeQuota", None, "quota"),
        ("AuthFailure.SomethingNew", None, "secret_id"),
        ("Totally.Unknown", None, "request_id"),
    ],
)
def test_table(code, retry, hint_fragment):
    assert _errors.retry_class(code) == retry
    assert hint_fragment in _errors.hint(code)


def test_every_code_in_table_has_a_hint_and_known_retry_class():
    for code, (retry, text) in _errors.ERROR_TABLE.items():
        assert retry in (None,) + tuple(_errors.MAX_ATTEMPTS), code
        assert text.endswith(".") and len(text) > 20, code


def test_fail_api_payload_with_request_id(run_module):
    error = CvmApiError("AssociateInstancesKeyPairs", "UnsupportedOperation.InstanceStateRunning", "Instance ins-a1000001 is running.", "req-42")
    failed, result = run_module(fail_with(error), ARGS)
    assert failed
    assert result == {
        "msg": "Failed to bind key pairs: Instance ins-a1000001 is running (UnsupportedOperation.InstanceStateRunning). "
        + _errors.hint("UnsupportedOperation.InstanceStateRunning")
        + " RequestId: req-42.",
        "changed": False,
        "request_ids": ["req-earlier"],
        "error": {
            "code": "UnsupportedOperation.InstanceStateRunning",
            "message": "Instance ins-a1000001 is running.",
            "request_id": "req-42",
            "action": "AssociateInstancesKeyPairs",
        },
    }


def test_fail_api_payload_after_retries_without_request_id(run_module):
    error = CvmApiError("DescribeInstances", "ClientNetworkError", "could not reach http://127.0.0.1:9: refused", None, attempts=6)
    failed, result = run_module(fail_with(error, "read the instances"), ARGS)
    assert failed
    assert result["msg"] == (
        "Failed to read the instances: could not reach http://127.0.0.1:9: refused (ClientNetworkError). Gave up after 6 attempts. "
        + _errors.hint("ClientNetworkError")
    )
    assert result["error"] == {
        "code": "ClientNetworkError",
        "message": "could not reach http://127.0.0.1:9: refused",
        "request_id": None,
        "action": "DescribeInstances",
    }


def test_fail_api_says_how_long_how_many_attempts_and_the_deadline(run_module):
    error = CvmApiError("DescribeInstances", "ClientNetworkError.Timeout", "could not reach http://127.0.0.1:9: no answer within 12.8 s", None, attempts=2)
    error.elapsed, error.deadline_reached = 58.25, 60
    failed, result = run_module(fail_with(error, "read the instances"), ARGS)
    assert failed
    assert result["msg"] == (
        "Failed to read the instances: could not reach http://127.0.0.1:9: no answer within 12.8 s (ClientNetworkError.Timeout). "
        "Gave up after 2 attempts in 58.2 s: api_deadline=60s leaves no time for another. " + _errors.hint("ClientNetworkError.Timeout")
    )


@pytest.mark.parametrize(
    "code, attempts",
    [
        ("InternalError", 10),
        ("ClientNetworkError", 10),
        ("ClientNetworkError.Timeout", 3),
        ("ClientNetworkError.ConnectionRefused", 3),
        ("ClientNetworkError.HostNotFound", 3),
        ("RequestLimitExceeded", 12),
        ("MutexOperation.TaskRunning", 10),
        ("InvalidParameter", 1),
    ],
)
def test_max_attempts_by_code(code, attempts):
    assert _errors.max_attempts(code) == attempts


@pytest.mark.parametrize("value, expected", [("", 60), ("7", 7)])
def test_api_deadline_from_the_environment_and_empty_means_the_default(run_module, monkeypatch, value, expected):
    """AWX injects TENCENTCLOUD_API_DEADLINE='' for an input left empty: that is the default, not an int conversion error."""
    monkeypatch.setenv("TENCENTCLOUD_API_DEADLINE", value)

    def main():
        module = TencentCloudModule({})
        module.finish(lambda: {"changed": False, "api_deadline": module.api.api_deadline})

    failed, result = run_module(main, ARGS)
    assert not failed and result["api_deadline"] == expected, result


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"secret_id": "AKIDx", "secret_key": "SECRETVALUE"}, "region is required"),
        (dict(ARGS, region="Guangzhou"), "'Guangzhou'"),
        (dict(ARGS, endpoint="ftp://x"), "'ftp://x'"),
        (dict(ARGS, request_timeout=0), "request_timeout must be a whole number of seconds from 1 to 86400 (one day), got 0."),
        (dict(ARGS, api_deadline=-5), "api_deadline must be a whole number of seconds from 1 to 86400 (one day), got -5."),
        ({"secret_id": "AKIDx", "region": "ap-guangzhou"}, "secret_key (TENCENTCLOUD_SECRET_KEY) is missing"),
    ],
)
def test_settings_errors_fail_before_any_request(run_module, monkeypatch, args, fragment):
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY", raising=False)
    monkeypatch.delenv("TENCENTCLOUD_REGION", raising=False)

    def main():
        return TencentCloudModule({}).api  # reading the property builds the client, which fails first

    failed, result = run_module(main, args)
    assert failed and fragment in result["msg"]
    assert "SECRETVALUE" not in result["msg"]

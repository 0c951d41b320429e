# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the emulator's own tests call it with: unmodified SDK clients pointed at it, calls that must succeed or
fail, and a wait. The fixtures (the shared emulator, a client, tccli) are in conftest.py; tests import these by
module, never conftest.

    from .sdk_calls import call, error_of, make_client
"""

import time

import pytest

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client

FAST_LATENCY = 0.2  # the operation latency of the shared emulator (conftest.py's shared_emulator)


def make_client(emu, secret_id=None, secret_key=None, token=None, region=None, certification=None, unsigned_payload=False):
    """An unmodified SDK CvmClient pointed at the emulator."""
    scheme, _sep, address = emu.url.partition("://")
    http_profile = HttpProfile(protocol=scheme, endpoint=address, reqTimeout=10, certification=certification)
    profile = ClientProfile(httpProfile=http_profile)
    profile.unsignedPayload = unsigned_payload
    cred = credential.Credential(secret_id or emu.secret_id, secret_key or emu.secret_key, token)
    return cvm_client.CvmClient(cred, region or emu.region, profile)


def call(client_, action, params=None):
    """The Response of a successful call (raises TencentCloudSDKException otherwise)."""
    return client_.call_json(action, params or {})["Response"]


def error_of(client_, action, params=None):
    """The exception of a call that must fail."""
    with pytest.raises(TencentCloudSDKException) as caught:
        client_.call_json(action, params or {})
    return caught.value


def instance(client_, instance_id):
    found = call(client_, "DescribeInstances", {"InstanceIds": [instance_id]})["InstanceSet"]
    assert len(found) == 1, found
    return found[0]


def wait_for(predicate, timeout=5.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %ss" % timeout)
        time.sleep(interval)

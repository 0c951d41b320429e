# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's STS through the unmodified SDK (CommonClient, service sts, version 2018-08-13): AssumeRole mints
temporary keys that sign CVM requests until their expiry, and the role table's refusals use the API's codes."""

import time

import pytest

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from harness import EmulatorError  # pylint: disable=import-error

from cvm_emulator import sts as emulated_sts  # pylint: disable=import-error

from .hand_signer import raw_error
from .sdk_calls import call, make_client

ROLE = emulated_sts.DEFAULT_ROLE_ARN
SHORT = "qcs::cam::uin/100000000001:roleName/short"
GUANGZHOU_ONLY = "qcs::cam::uin/100000000001:roleName/guangzhou-only"


def sts_client(emu, secret_id=None, secret_key=None, token=None, service="sts"):
    scheme, _sep, address = emu.url.partition("://")
    profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=address, reqTimeout=10))
    return CommonClient(service, emulated_sts.STS_VERSION, credential.Credential(secret_id or emu.secret_id, secret_key or emu.secret_key, token),
                        emu.region, profile)


def assume(client, role_arn=ROLE, **params):
    return client.call_json("AssumeRole", dict({"RoleArn": role_arn, "RoleSessionName": "emulator-test"}, **params))["Response"]


def sts_error(client, role_arn=ROLE, **params):
    with pytest.raises(TencentCloudSDKException) as caught:
        assume(client, role_arn, **params)
    return caught.value.code


@pytest.fixture
def roles(emu):
    emu.configure(roles={
        ROLE: {"principals": ["*"], "regions": ["*"], "max_session_seconds": 43200, "external_id": None},
        SHORT: {"principals": ["*"], "regions": ["*"], "max_session_seconds": 2, "external_id": None},
        GUANGZHOU_ONLY: {"principals": [emu.secret_id], "regions": ["ap-guangzhou"], "max_session_seconds": 3600, "external_id": "ext-id-1"},
    })
    return emu


def test_assumed_keys_sign_cvm_requests_and_the_log_names_them(roles):
    answer = assume(sts_client(roles), DurationSeconds=900)
    keys = answer["Credentials"]
    assert keys["TmpSecretId"].startswith("AKID") and keys["Token"] and keys["TmpSecretKey"]
    assert answer["ExpiredTime"] - time.time() <= 900 and answer["Expiration"].endswith("Z")
    temporary = make_client(roles, keys["TmpSecretId"], keys["TmpSecretKey"], keys["Token"])
    assert call(temporary, "DescribeInstances", {"Limit": 1})["TotalCount"] > 0
    records = roles.requests()["requests"]
    assert [(r["action"], r["secret_id"], r["has_token"]) for r in records] == [
        ("AssumeRole", roles.secret_id, False), ("DescribeInstances", keys["TmpSecretId"], True)]
    assert records[0]["issued"] == {"secret_id": keys["TmpSecretId"], "expires": answer["ExpiredTime"], "role": ROLE}
    assert records[1]["token_expires"] == answer["ExpiredTime"]
    assert keys["TmpSecretKey"] not in str(records) and keys["Token"] not in str(records)


@pytest.mark.nondeterministic  # waits past an expiry (the outcome cannot flip: an expired token stays expired)
def test_an_expired_token_is_refused_with_token_failure(roles):
    keys = assume(sts_client(roles), SHORT, DurationSeconds=2)["Credentials"]
    temporary = make_client(roles, keys["TmpSecretId"], keys["TmpSecretKey"], keys["Token"])
    time.sleep(2.1)
    with pytest.raises(TencentCloudSDKException) as caught:
        call(temporary, "DescribeInstances", {"Limit": 1})
    assert caught.value.code == "AuthFailure.TokenFailure" and "has expired" in caught.value.message


def test_the_token_must_come_with_its_keys(roles):
    keys = assume(sts_client(roles))["Credentials"]
    assert raw_error(roles, "DescribeInstances", secret_id=keys["TmpSecretId"], secret_key=keys["TmpSecretKey"])["Code"] == "AuthFailure.TokenFailure"
    assert raw_error(roles, "DescribeInstances", secret_id=keys["TmpSecretId"], secret_key=keys["TmpSecretKey"],
                     token="forged")["Code"] == "AuthFailure.TokenFailure"


def test_sts_requests_must_be_signed_for_sts(roles):
    assert sts_error(sts_client(roles, service="cvm")) == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("role_arn, params, code", [
    ("qcs::cam::uin/100000000001:roleName/nosuch", {}, "ResourceNotFound.RoleNotFound"),
    ("arn:aws:iam::1:role/x", {}, "InvalidParameter.ResouceError"),
    (SHORT, {"DurationSeconds": 3}, "InvalidParameter.OverTimeError"),
    (GUANGZHOU_ONLY, {}, "UnauthorizedOperation"),  # the role requires an external id
    (GUANGZHOU_ONLY, {"ExternalId": "wrong"}, "UnauthorizedOperation"),
    (ROLE, {"RoleSessionName": "x"}, "InvalidParameter.ParamError"),
    (ROLE, {"Unknown": 1}, "UnknownParameter"),
    (ROLE, {"DurationSeconds": "60"}, "InvalidParameter"),
])
def test_refusals_use_the_api_codes(roles, role_arn, params, code):
    assert sts_error(sts_client(roles), role_arn, **params) == code
    assert roles.write_count() == 0


def test_a_key_the_role_does_not_trust_may_not_assume_it(roles):
    roles.load_state({"credentials": [{"secret_id": roles.secret_id, "secret_key": roles.secret_key},
                                      {"secret_id": "AKIDOTHER0000000000000000000000000000", "secret_key": "otherSecretKey"}]})
    other = sts_client(roles, "AKIDOTHER0000000000000000000000000000", "otherSecretKey")
    assert sts_error(other, GUANGZHOU_ONLY, ExternalId="ext-id-1") == "UnauthorizedOperation"
    assert assume(sts_client(roles), GUANGZHOU_ONLY, ExternalId="ext-id-1", DurationSeconds=900)["Credentials"]["TmpSecretId"]


def test_a_role_acts_only_in_its_regions(roles):
    keys = assume(sts_client(roles), GUANGZHOU_ONLY, ExternalId="ext-id-1", DurationSeconds=900)["Credentials"]
    assert call(make_client(roles, keys["TmpSecretId"], keys["TmpSecretKey"], keys["Token"], region="ap-guangzhou"), "DescribeInstances")
    with pytest.raises(TencentCloudSDKException) as caught:
        call(make_client(roles, keys["TmpSecretId"], keys["TmpSecretKey"], keys["Token"], region="ap-shanghai"), "DescribeInstances")
    assert caught.value.code == "UnauthorizedOperation" and "ap-shanghai" in caught.value.message


def test_the_role_table_is_checked_when_configured(emu):
    with pytest.raises(EmulatorError) as caught:
        emu.configure(roles={"not-an-arn": {}})
    assert "HTTP 400" in str(caught.value) and "is not a role ARN" in str(caught.value)
    assert emu.config()["roles"] == {ROLE: {"principals": ["*"], "regions": ["*"], "max_session_seconds": 43200, "external_id": None}}

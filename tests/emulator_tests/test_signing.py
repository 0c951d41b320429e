# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The signed API as the unmodified SDK (and a hand signer) sees it: authentication, headers, error format."""

import json
import time

from .hand_signer import raw_call, raw_error
from .sdk_calls import call, error_of, make_client


def test_sdk_is_verified_and_reads_the_seed(emu, client):
    response = call(client, "DescribeInstances", {"Limit": 100})
    assert response["TotalCount"] == 6
    assert [item["InstanceId"] for item in response["InstanceSet"]] == ["ins-a100000%d" % n for n in range(1, 7)]
    assert len(response["RequestId"]) == 36
    assert emu.requests()["requests"][-1]["secret_id"] == emu.secret_id


def test_sdk_typed_models_work(emu):
    from tencentcloud.cvm.v20170312 import models  # pylint: disable=import-outside-toplevel
    request = models.DescribeKeyPairsRequest()
    request.KeyIds = ["skey-k1000001"]
    response = make_client(emu).DescribeKeyPairs(request)
    assert response.TotalCount == 1
    assert response.KeyPairSet[0].KeyName == "ops-team"
    assert response.KeyPairSet[0].AssociatedInstanceIds == ["ins-a1000001", "ins-a1000003"]


def test_wrong_secret_key_is_a_signature_failure(emu):
    error = error_of(make_client(emu, secret_key="not-the-key"), "DescribeInstances")
    assert error.code == "AuthFailure.SignatureFailure"
    assert error.requestId


def test_unknown_secret_id(emu):
    error = error_of(make_client(emu, secret_id="AKIDunknown00000000000000000000000000"), "DescribeInstances")
    assert error.code == "AuthFailure.SecretIdNotFound"
    assert "AKIDunknown" in error.message


def test_stale_timestamp_is_expired(emu):
    assert raw_error(emu, "DescribeInstances", timestamp=int(time.time()) - 301)["Code"] == "AuthFailure.SignatureExpire"
    assert raw_error(emu, "DescribeInstances", timestamp=int(time.time()) + 400)["Code"] == "AuthFailure.SignatureExpire"
    status, _headers, body = raw_call(emu, "DescribeInstances", timestamp=int(time.time()) - 290)
    assert status == 200 and "Error" not in json.loads(body)["Response"]


def test_stale_timestamp_from_the_sdk(emu, monkeypatch):
    from tencentcloud.common import abstract_client  # pylint: disable=import-outside-toplevel
    monkeypatch.setattr(abstract_client.time, "time", lambda: 1_600_000_000.0)
    assert error_of(make_client(emu), "DescribeInstances").code == "AuthFailure.SignatureExpire"


def test_security_tokens(emu):
    document = emu.state()
    document["credentials"] = [
        {"secret_id": "AKIDtoken0000000000000000000000000000", "secret_key": "tokenKey", "token": "session-token-1"},
        {"secret_id": emu.secret_id, "secret_key": emu.secret_key},
    ]
    emu.load_state(document)
    token_id = "AKIDtoken0000000000000000000000000000"
    assert call(make_client(emu, token_id, "tokenKey", token="session-token-1"), "DescribeKeyPairs")["TotalCount"] == 4
    for token in (None, "another-token"):
        assert error_of(make_client(emu, token_id, "tokenKey", token=token), "DescribeKeyPairs").code == "AuthFailure.TokenFailure"
    assert error_of(make_client(emu, token="unexpected"), "DescribeKeyPairs").code == "AuthFailure.TokenFailure"
    assert [record["has_token"] for record in emu.requests()["requests"]] == [True, False, True, True]


def test_wrong_version(emu):
    assert raw_error(emu, "DescribeInstances", version="2017-03-13")["Code"] == "NoSuchVersion"
    client = make_client(emu)
    client._apiVersion = "2020-01-01"  # pylint: disable=protected-access
    assert error_of(client, "DescribeInstances").code == "NoSuchVersion"


def test_unknown_region(emu):
    error = error_of(make_client(emu, region="ap-atlantis"), "DescribeInstances")
    assert error.code == "UnsupportedRegion"
    assert "ap-atlantis" in error.message


def test_other_regions_see_only_their_resources(emu):
    shanghai = make_client(emu, region="ap-shanghai")
    assert call(shanghai, "DescribeInstances")["TotalCount"] == 0
    assert call(shanghai, "DescribeInstances", {"InstanceIds": ["ins-a1000001"]})["InstanceSet"] == []
    error = error_of(shanghai, "AssociateInstancesKeyPairs", {"InstanceIds": ["ins-a1000004"], "KeyIds": ["skey-k1000003"]})
    assert error.code == "InvalidInstanceId.NotFound"


def test_unknown_action(emu, client):
    error = error_of(client, "DescribeUnicorns")
    assert error.code == "InvalidAction"
    assert "DescribeUnicorns" in error.message


def test_errors_are_http_200_with_exact_json_content_type(emu):
    status, headers, body = raw_call(emu, "DescribeInstances", secret_key="wrong")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    response = json.loads(body)["Response"]
    assert set(response) == {"Error", "RequestId"}
    assert set(response["Error"]) == {"Code", "Message"}
    status, headers, body = raw_call(emu, "DescribeInstances")
    assert headers["Content-Type"] == "application/json"


def test_host_header_is_verified_as_sent(emu):
    """tccli sends `Host: http://127.0.0.1:PORT`; the signature covers that exact value."""
    status, _headers, body = raw_call(emu, "DescribeInstances", host=emu.url)
    assert status == 200 and "Error" not in json.loads(body)["Response"]


def test_malformed_authorization(emu):
    for authorization in ("Bearer abc", "TC3-HMAC-SHA256 Credential=x", "TC3-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host"):
        assert raw_error(emu, "DescribeInstances", authorization=authorization)["Code"] == "AuthFailure.SignatureFailure"


def test_unsigned_payload_is_accepted(emu):
    assert call(make_client(emu, unsigned_payload=True), "DescribeInstances")["TotalCount"] == 6


def test_secrets_never_reach_the_request_log(emu, client):
    call(client, "DescribeInstances")
    text = json.dumps(emu.requests())
    assert emu.secret_key not in text
    assert emu.secret_id in text

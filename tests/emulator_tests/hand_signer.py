# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A hand signer of TC3-HMAC-SHA256 requests, written from the protocol description independently of both the SDK and
the emulator, and raw HTTP calls with it: the signing tests send what no SDK would.

    from .hand_signer import raw_call, raw_error
"""

import datetime
import hashlib
import hmac
import http.client
import json
import time


def _hmac(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def sign(secret_id, secret_key, host, body, timestamp, content_type="application/json", service="cvm"):
    date = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%d")
    canonical = "POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s" % (content_type, host, hashlib.sha256(body).hexdigest())
    to_sign = "TC3-HMAC-SHA256\n%d\n%s/%s/tc3_request\n%s" % (timestamp, date, service, hashlib.sha256(canonical.encode()).hexdigest())
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, Signature=%s" % (secret_id, date, service, signature)


def raw_call(emu, action, params=None, *, secret_id=None, secret_key=None, token=None, timestamp=None, version="2017-03-12",
             region=None, host=None, authorization=None):
    """POST a hand-signed request with http.client; returns (status, headers dict, body bytes)."""
    body = json.dumps(params or {}).encode()
    address = emu.url.partition("://")[2]
    host = host or address
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Host": host, "Content-Type": "application/json", "X-TC-Action": action, "X-TC-Version": version,
        "X-TC-Timestamp": str(timestamp), "X-TC-Region": region or emu.region,
        "Authorization": authorization or sign(secret_id or emu.secret_id, secret_key or emu.secret_key, host, body, timestamp),
    }
    if token:
        headers["X-TC-Token"] = token
    connection = http.client.HTTPConnection(address, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def raw_error(emu, action, params=None, **kwargs):
    status, headers, body = raw_call(emu, action, params, **kwargs)
    assert status == 200 and headers["Content-Type"] == "application/json", (status, headers)
    return json.loads(body)["Response"]["Error"]

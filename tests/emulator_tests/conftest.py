# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the emulator's own tests: a shared emulator reset before each test, SDK clients, a hand signer,
and the cached tccli wheel / virtualenv (under $TCCVM_CACHE or <repo>/.cache/)."""

import contextlib
import datetime
import fcntl
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client

# tests/emulator and tests/support are on pytest's pythonpath (pytest.ini).
# cvm_emulator is re-exported to the tests (the contract test introspects its action table).
import cvm_emulator  # noqa: F401  pylint: disable=unused-import,import-error
from harness import Emulator  # pylint: disable=import-error
from shared_constants import PROXY_VARIABLES, REPO  # pylint: disable=import-error

HERE = Path(__file__).resolve().parent

TCCLI_VERSION = "3.1.189.1"  # the pinned tccli whose api.json is the contract and whose CLI is the second client
FAST_LATENCY = 0.2

for _name in PROXY_VARIABLES:  # the emulator is on 127.0.0.1: no proxy may see that traffic
    os.environ.pop(_name, None)


# ---------------------------------------------------------------------------------------------------------------------
# The cache of downloaded things (tccli wheel, tccli virtualenv).

def cache_dir():
    path = Path(os.environ.get("TCCVM_CACHE") or REPO / ".cache")
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def cache_lock(name):
    """Serialize cache building between concurrent test processes (xdist workers, two terminals)."""
    with open(cache_dir() / (name + ".lock"), "w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pip_output_tail(error):
    return "\n".join(((error.stdout or "") + (error.stderr or "")).splitlines()[-20:])


@pytest.fixture(scope="session")
def tccli_wheel():
    """The pinned tccli wheel, downloaded once with pip into the cache."""
    target = cache_dir() / "wheels"
    pattern = "tccli-%s-*.whl" % TCCLI_VERSION
    with cache_lock("wheels"):
        found = sorted(target.glob(pattern))
        if not found:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                       "tccli==" + TCCLI_VERSION, "-d", str(target)]
            try:
                subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
            except subprocess.CalledProcessError as error:
                pytest.fail("cannot download tccli==%s with pip:\n%s" % (TCCLI_VERSION, pip_output_tail(error)))
            found = sorted(target.glob(pattern))
    assert found, "pip download left no %s in %s" % (pattern, target)
    return found[0]


@pytest.fixture(scope="session")
def api_json(tccli_wheel):
    """tccli/services/cvm/v20170312/api.json of the pinned wheel: the official parameter and object declarations."""
    with zipfile.ZipFile(tccli_wheel) as wheel:
        return json.loads(wheel.read("tccli/services/cvm/v20170312/api.json"))


@pytest.fixture(scope="session")
def tccli_bin():
    """A virtualenv with the pinned tccli (pip install tccli==VERSION), created once under the cache and reused."""
    venv = cache_dir() / ("tccli-%s-py%d.%d" % (TCCLI_VERSION, sys.version_info[0], sys.version_info[1]))
    stamp = venv / ".installed"
    with cache_lock("tccli-venv"):
        if not stamp.exists():
            try:
                subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True, text=True, timeout=300)
                subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                                "tccli==" + TCCLI_VERSION], check=True, capture_output=True, text=True, timeout=1800)
            except subprocess.CalledProcessError as error:
                pytest.fail("cannot install tccli==%s into %s:\n%s" % (TCCLI_VERSION, venv, pip_output_tail(error)))
            stamp.write_text(TCCLI_VERSION + "\n", encoding="utf-8")
    return venv / "bin" / "tccli"


# ---------------------------------------------------------------------------------------------------------------------
# Emulators and clients.

@pytest.fixture(scope="session")
def shared_emulator():
    with Emulator(extra_args=["--operation-latency", str(FAST_LATENCY), "--seed", "7"]) as emu:
        yield emu


@pytest.fixture
def emu(shared_emulator):
    """The shared emulator, back to its starting state, config and an empty request log."""
    shared_emulator.reset(everything=True)
    return shared_emulator


def make_client(emu, secret_id=None, secret_key=None, token=None, region=None, certification=None, unsigned_payload=False):
    """An unmodified SDK CvmClient pointed at the emulator."""
    scheme, _sep, address = emu.url.partition("://")
    http_profile = HttpProfile(protocol=scheme, endpoint=address, reqTimeout=10, certification=certification)
    profile = ClientProfile(httpProfile=http_profile)
    profile.unsignedPayload = unsigned_payload
    cred = credential.Credential(secret_id or emu.secret_id, secret_key or emu.secret_key, token)
    return cvm_client.CvmClient(cred, region or emu.region, profile)


@pytest.fixture
def client(emu):
    return make_client(emu)


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


def keys_of(emu, instance_id):
    return emu.instance(instance_id)["LoginSettings"]["KeyIds"] or []


def wait_for(predicate, timeout=5.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %ss" % timeout)
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------------------------------
# A hand signer, written from api-facts.md independently of both the SDK and the emulator.

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

# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A second, independent client: the official tccli (pinned, installed once into a cached virtualenv).

tccli takes credentials and region from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY / TENCENTCLOUD_REGION
(only when no --profile is given) and the server from --endpoint; with `--endpoint http://HOST:PORT` it talks
plain HTTP and signs `Host: http://HOST:PORT`, which the emulator verifies as sent."""

import json
import os
import subprocess

import pytest

from shared_constants import PROXY_VARIABLES  # pylint: disable=import-error


@pytest.fixture
def tccli(tccli_bin, emu, tmp_path):
    env = {name: value for name, value in os.environ.items() if name not in PROXY_VARIABLES and not name.startswith(("TENCENTCLOUD_", "TCCLI_"))}
    env.update(HOME=str(tmp_path), TENCENTCLOUD_SECRET_ID=emu.secret_id, TENCENTCLOUD_SECRET_KEY=emu.secret_key,
               TENCENTCLOUD_REGION=emu.region)  # HOME: no ~/.tccli profile may interfere

    def run(action, *args):
        return subprocess.run([str(tccli_bin), "cvm", action, *args, "--endpoint", emu.url],
                              env=env, capture_output=True, text=True, timeout=120, check=False)
    return run


def test_tccli_describes_instances(tccli, emu):
    result = tccli("DescribeInstances", "--InstanceIds", '["ins-a1000004", "ins-a1000001"]')
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["TotalCount"] == 2
    assert [item["InstanceId"] for item in output["InstanceSet"]] == ["ins-a1000004", "ins-a1000001"]
    assert output["InstanceSet"][1]["LoginSettings"]["KeyIds"] == ["skey-k1000001"]
    record = emu.requests()["requests"][-1]
    assert (record["action"], record["outcome"], record["secret_id"]) == ("DescribeInstances", "ok", emu.secret_id)


def test_tccli_binds_a_key(tccli, emu):
    result = tccli("AssociateInstancesKeyPairs", "--InstanceIds", '["ins-a1000004"]', "--KeyIds", '["skey-k1000003"]')
    assert result.returncode == 0, result.stderr
    request_id = json.loads(result.stdout)["RequestId"]
    emu.wait_idle()
    done = emu.instance("ins-a1000004")
    assert done["LoginSettings"]["KeyIds"] == ["skey-k1000003"]
    assert (done["LatestOperation"], done["LatestOperationState"], done["LatestOperationRequestId"]) == (
        "AssociateInstancesKeyPairs", "SUCCESS", request_id)
    assert emu.key_pair("skey-k1000003")["AssociatedInstanceIds"] == ["ins-a1000004"]
    assert emu.write_count() == 1


def test_tccli_shows_api_errors(tccli, emu):
    result = tccli("AssociateInstancesKeyPairs", "--InstanceIds", '["ins-a1000001"]', "--KeyIds", '["skey-k1000003"]')
    assert result.returncode != 0
    assert "UnsupportedOperation.InstanceStateRunning" in result.stderr
    assert emu.operating() == []

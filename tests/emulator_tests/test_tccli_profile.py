# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection reads a tccli profile as tccli itself writes it (`tccli configure set ... --profile NAME`), and signs
with its keys, directly or to assume a role through the emulator's STS."""

import os
import subprocess

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client, _credentials
from shared_constants import PROXY_VARIABLES  # pylint: disable=import-error

from cvm_emulator import sts as emulated_sts  # pylint: disable=import-error


@pytest.fixture
def tccli_home(tccli_bin, emu, tmp_path, monkeypatch):
    """A HOME whose ~/.tccli holds the profile `emu`, written by the pinned tccli, with the emulator's key and a region."""
    env = {name: value for name, value in os.environ.items() if name not in PROXY_VARIABLES and not name.startswith(("TENCENTCLOUD_", "TCCLI_"))}
    env["HOME"] = str(tmp_path)
    result = subprocess.run([str(tccli_bin), "configure", "set", "secretId", emu.secret_id, "secretKey", emu.secret_key, "region",
                             "ap-shanghai", "--profile", "emu"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert {"emu.configure", "emu.credential"} <= set(os.listdir(tmp_path / ".tccli"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("role_arn", [None, emulated_sts.DEFAULT_ROLE_ARN])
def test_a_profile_written_by_tccli_signs_the_requests(tccli_home, emu, role_arn):
    warnings = []
    region = _credentials.profile_region("emu", warnings.append)
    assert region == "ap-shanghai"
    credential = _credentials.connect({"profile": "emu", "role_arn": role_arn, "endpoint": emu.url}, region, warn=warnings.append)
    api = _client.CvmApi(credential, region, endpoint=emu.url)
    assert api.call("DescribeInstances", {"Limit": 1})["TotalCount"] >= 0
    records = emu.requests()["requests"]
    if role_arn is None:
        assert [(r["action"], r["secret_id"], r["region"]) for r in records] == [("DescribeInstances", emu.secret_id, "ap-shanghai")]
    else:
        assert [(r["action"], r["secret_id"]) for r in records] == [("AssumeRole", emu.secret_id),
                                                                    ("DescribeInstances", records[0]["issued"]["secret_id"])]
    assert warnings == []  # tccli keeps ~/.tccli private (0700)

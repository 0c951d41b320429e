# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbook tencentcloud.cvm.cvm_keys_remediate with events as ansible-rulebook passes them (-e @file): it acts on
checked IDs only, and refuses anything else before any request."""

from __future__ import annotations

import json
import subprocess

import pytest

from ansible_env import BIN  # pylint: disable=import-error

OPS = "skey-k1000001"


def remediate(emu, ansible_env, tmp_path, cvm_instance):
    extra = tmp_path / "event.json"
    extra.write_text(json.dumps({"ansible_eda": {"event": {"cvm_instance": cvm_instance}}}))
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", "tencentcloud.cvm.cvm_keys_remediate",
                           "-e", "@%s" % extra], env=ansible_env(emu), capture_output=True, text=True, timeout=600, check=False)


def event(instance_id="ins-a1000004", region="ap-guangzhou", missing=(OPS,), unexpected=()):
    return {"instance_id": instance_id, "region": region, "instance_name": "batch-1",
            "policy": {"compliant": False, "missing_key_ids": list(missing), "unexpected_key_ids": list(unexpected)}}


@pytest.mark.parametrize("bad", [
    {"instance_id": "-oProxyCommand=x"}, {"instance_id": "ins-a1000004\n"}, {"instance_id": ["ins-a1000004"]},
    {"region": "ap-guangzhou; id"}, {"missing": ["skey-k1000001 "]}, {"unexpected": ["{{ 7 * 7 }}"]}, {"missing": "skey-k1000001"},
])
def test_an_event_whose_ids_are_not_ids_is_refused_before_any_request(emulator, ansible_env, tmp_path, bad):
    proc = remediate(emulator, ansible_env, tmp_path, event(**bad))
    assert proc.returncode != 0, proc.stdout
    assert "is not a tencentcloud.cvm.cvm_instances policy event" in proc.stdout and "Nothing was changed." in proc.stdout, proc.stdout
    assert emulator.write_count() == 0 and emulator.counts().get("DescribeInstances", 0) == 0


def test_a_valid_event_is_repaired_whatever_its_names_say(emulator, ansible_env, tmp_path):
    cvm_instance = dict(event(), instance_name="{ { lookup('ansible.builtin.pipe', 'id') }}", defused_fields=["instance_name"])
    proc = remediate(emulator, ansible_env, tmp_path, cvm_instance)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert emulator.instance("ins-a1000004")["LoginSettings"]["KeyIds"] == [OPS]

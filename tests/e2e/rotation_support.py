# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the key_rotation role's end-to-end tests share: the plays, the fleet (RUNNING Linux instances tagged
fleet=rotation, all bound to the key pair old_key, whose private key the test holds), the role's variables, and
lookups of the emulator's SSH addresses and of the new key pair."""

from __future__ import annotations

from ssh_client import LOGIN_USER  # pylint: disable=import-error

OLD_KEY_ID = "skey-old00001"
SSH_EXTRA = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"

INVENTORY_PLAY = """
- name: Rotate the fleet's key
  hosts: all
  gather_facts: false
  roles:
    - role: tencentcloud.cvm.key_rotation
"""

API_PLAY = """
- name: Rotate the key of the instances a filter selects
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: tencentcloud.cvm.key_rotation
"""


def fleet_ids(size, letter):
    """ins-<letter>0000001 ... : one letter per test module keeps the fleets of two modules apart in a log."""
    return ["ins-%s%07d" % (letter, number) for number in range(1, size + 1)]


def fleet_state(size, old_public_key, letter, name, extra_key_pairs=()):
    instances = [{"InstanceId": instance_id, "InstanceName": "%s-%02d" % (name, number), "InstanceState": "RUNNING",
                  "OsName": "Debian 12.0 64bit", "Tags": {"fleet": "rotation"}, "LoginSettings": {"KeyIds": [OLD_KEY_ID]}}
                 for number, instance_id in enumerate(fleet_ids(size, letter), start=1)]
    key_pairs = [{"KeyId": OLD_KEY_ID, "KeyName": "old_key", "PublicKey": old_public_key}] + list(extra_key_pairs)
    return {"instances": instances, "key_pairs": key_pairs}


def role_vars(tmp_path, **extra):
    variables = {"key_rotation_new_key_name": "new_key", "key_rotation_new_private_key_path": str(tmp_path / "new_key.pem"),
                 "key_rotation_retired_key_names": ["old_key"], "key_rotation_force_stop": True, "key_rotation_login_timeout": 5,
                 "key_rotation_ssh_extra_args": SSH_EXTRA, "key_rotation_login_user": LOGIN_USER}
    variables.update(extra)
    return variables


def address(emu, instance_id):
    return emu.ssh()["instances"][instance_id]["address"]


def new_key_ids(emu):
    return [pair["KeyId"] for pair in emu.state()["key_pairs"] if pair["KeyName"] == "new_key"]


def report_of(records):
    """key_rotation_report as the role's last report step set it."""
    built = [r for r in records if r["task"].endswith("Build the report, one entry per target")][-1]["result"]
    return built["ansible_facts"]["key_rotation_report"]

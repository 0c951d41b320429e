#!/usr/bin/python
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ssh_login_check
short_description: Check from the controller that one private key logs in to each of many hosts over SSH
version_added: 0.1.0
description:
  - Logs in to every target with the controller's C(ssh) client, in parallel (at most O(parallel) at once), with the key
    O(private_key_path) and nothing else, and retries each target until it logs in or O(timeout) seconds have passed.
  - Each login uses no ssh configuration file (C(-F /dev/null)), only that key (C(IdentitiesOnly), C(IdentityAgent=none)), public
    key authentication only, no shared connection (C(ControlMaster=no), C(ControlPath=none)) and C(BatchMode). With Ansible's
    C(host_key_checking) off, unknown host keys are accepted as Ansible's ssh connection does.
  - Every address is checked first with the filter C(tencentcloud.cvm.login_address). Only an IP address inside O(allowed_networks)
    is connected to; any other target fails with the reason and is never contacted.
  - Runs on the controller (an action plugin); the role C(tencentcloud.cvm.key_rotation) uses it to prove a new key before it
    unbinds the retired ones. It changes nothing.
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
attributes:
  check_mode:
    support: full
    details: In check mode no login is tried; RV(passed) is empty and RV(failures) holds only refused addresses.
  diff_mode:
    support: none
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  targets:
    description:
      - The hosts to log in to, a name (like an instance ID) mapped to its address. An address is one IP address, a list of them in
        order of preference, or an instance as C(tencentcloud.cvm.cvm_keypair_association_info) returns it.
    type: dict
    required: true
  private_key_path:
    description: The private key file to log in with, on the controller (mode 0600 or 0400, no passphrase).
    type: path
    required: true
  user:
    description: The user to log in as.
    type: str
    required: true
  ssh_extra_args:
    description:
      - More ssh options, like V(-o UserKnownHostsFile=/dev/null). Options that would let a login pass without the key
        O(private_key_path) (other identities, agents, proxies, local commands, configuration files, shared connections, other
        authentication methods; the filter C(tencentcloud.cvm.refused_ssh_args) lists them) make the module fail before any login.
    type: str
    default: ""
  timeout:
    description:
      - Seconds to keep trying to log in to one target before it counts as failed. A new attempt starts only within this time;
        one under way may take up to 60 seconds longer (a slow login is not a failed one), then it is ended.
    type: int
    default: 60
  connect_timeout:
    description: Seconds one connection attempt may wait for the TCP connection (ssh's C(ConnectTimeout)).
    type: int
    default: 5
  parallel:
    description: How many logins run at once.
    type: int
    default: 20
  allowed_networks:
    description: Networks in CIDR notation that addresses must lie in, like V(10.0.0.0/8). Empty allows every address.
    type: list
    elements: str
    default: []
notes:
  - Runs C(ssh) on the controller with C(true) as the command; nothing but a login and a shell is needed on the host.
"""

EXAMPLES = r"""
- name: Read the production web servers
  tencentcloud.cvm.cvm_keypair_association_info:
    instance_filters:
      tag:env: prod
      tag:role: web
  register: web

- name: Check that the new key logs in to each of them (at their private IP, else their public IP)
  tencentcloud.cvm.ssh_login_check:
    targets: "{{ dict(web.instances | map(attribute='instance_id') | zip(web.instances)) }}"
    private_key_path: ~/.ssh/new_key
    user: root
    ssh_extra_args: -o UserKnownHostsFile=~/.ssh/known_hosts_fleet
    allowed_networks: [10.0.0.0/8]
    parallel: 50
  register: logins

- name: Show the instances the key did not open, and why
  ansible.builtin.debug:
    var: logins.failures
"""

RETURN = r"""
passed:
  description: The targets the key logged in to, sorted.
  returned: always
  type: list
  elements: str
  sample: [ins-1e4r6y8i]
failures:
  description: Each target the key did not log in to, with the reason (ssh's last complaint, or the refused address).
  returned: always
  type: dict
  sample: {"ins-2e4r6y8i": "cvm-login@10.0.3.12: Permission denied (publickey). (6 attempts in 5 seconds)"}
attempts:
  description: How many ssh processes ran in all.
  returned: when logins were tried
  type: int
  sample: 2
"""

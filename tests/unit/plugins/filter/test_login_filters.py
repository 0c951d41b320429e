# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters the key_rotation role checks its logins with: login_address and refused_ssh_args (narrow: the role's
end-to-end tests run them in real role runs)."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.tencentcloud.cvm.plugins.filter.login_address import login_address
from ansible_collections.tencentcloud.cvm.plugins.filter.refused_ssh_args import refused_ssh_args


def test_the_first_ip_address_inside_the_allowed_networks_is_chosen():
    instance = {"instance_id": "ins-1", "private_ips": ["-oProxyCommand=touch x", "192.168.1.5"], "public_ips": ["10.1.2.3"]}
    assert login_address(instance, ["10.0.0.0/8"]) == {
        "address": "10.1.2.3",
        "refused": ["'-oProxyCommand=touch x' is not an IP address", "192.168.1.5 is outside the allowed networks 10.0.0.0/8"],
    }
    assert login_address(instance)["address"] == "192.168.1.5"
    assert login_address("fd00::1", ["10.0.0.0/8", "fd00::/8"]) == {"address": "fd00::1", "refused": []}


@pytest.mark.parametrize("value", ["", "host.example", "0.0.0.0", "224.0.0.1", "10.0.0.1 -oProxyCommand=x", None, []])
def test_anything_but_a_host_ip_address_gives_no_address(value):
    result = login_address(value)
    assert result["address"] == "" and result["refused"], result


@pytest.mark.parametrize("networks", [["10.0.0.0/33"], ["ten"], "10.0.0.0/8"])
def test_a_value_that_is_not_a_network_fails_naming_it(networks):
    with pytest.raises(AnsibleFilterError, match="10.0.0.0/33|ten|10.0.0.0/8"):
        login_address("10.0.0.1", networks)


@pytest.mark.parametrize(
    "args", ["", "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null", "-p 2222 -4 -v", "-p2222", "-o ConnectTimeout=10", "-o 'ServerAliveInterval 5'"]
)
def test_options_that_keep_the_new_key_only_are_accepted(args):
    assert refused_ssh_args(args) == []


@pytest.mark.parametrize(
    "args,refused",
    [
        ("-i old.pem", ["-i old.pem"]),
        ("-4i old.pem", ["-i old.pem"]),
        ("-iold.pem", ["-i old.pem"]),
        ("-o IdentityFile=old.pem", ["-o IdentityFile=old.pem"]),
        ("-oidentityfile old.pem", ["-o identityfile", "old.pem (not an option: ssh would take it as the host)"]),
        ("-o 'IdentityAgent /run/agent'", ["-o IdentityAgent /run/agent"]),
        (
            "-o CertificateFile=c -o AddKeysToAgent=yes -o PKCS11Provider=p -o SecurityKeyProvider=s",
            ["-o CertificateFile=c", "-o AddKeysToAgent=yes", "-o PKCS11Provider=p", "-o SecurityKeyProvider=s"],
        ),
        ("-J bastion", ["-J bastion"]),
        ("-o ProxyJump=bastion -o 'ProxyCommand nc %h 22'", ["-o ProxyJump=bastion", "-o ProxyCommand nc %h 22"]),
        ("-o LocalCommand=id -o PermitLocalCommand=yes", ["-o LocalCommand=id", "-o PermitLocalCommand=yes"]),
        ("-F cfg", ["-F cfg"]),
        ("-o 'Include cfg'", ["-o Include cfg"]),
        ("-o 'Match exec \"id\"'", ['-o Match exec "id"']),
        ("-o ControlPath=/run/master -S /run/master", ["-o ControlPath=/run/master", "-S /run/master"]),
        ("-G", ["-G"]),
        ("-V", ["-V"]),
        ("-N -f", ["-N", "-f"]),
        ("otherhost", ["otherhost (not an option: ssh would take it as the host)"]),
        ("-o", ["-o (without an option)"]),
        ("-Z", ["-Z"]),
    ],
)
def test_options_that_could_log_in_otherwise_are_named(args, refused):
    assert refused_ssh_args(args) == refused


def test_arguments_that_do_not_split_are_refused_whole():
    assert refused_ssh_args("-o 'ProxyCommand x") == ["-o 'ProxyCommand x (it cannot be split like a shell would: No closing quotation)"]


def test_a_non_string_fails():
    with pytest.raises(AnsibleFilterError):
        refused_ssh_args(["-i", "old.pem"])

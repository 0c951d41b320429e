# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: refused_ssh_args
short_description: The ssh arguments that could let a login succeed without the one key it must use
version_added: 0.1.0
description:
  - Splits extra ssh arguments as Ansible's ssh connection does (Python's C(shlex)) and returns those that could make a login
    check pass without the key it is meant to prove, or run something on the controller.
  - Refused are other identities (C(-i), C(-I), C(IdentityFile), C(IdentityAgent), C(CertificateFile), C(AddKeysToAgent),
    C(PKCS11Provider), C(SecurityKeyProvider), C(IdentitiesOnly)); proxies (C(-J), C(ProxyJump), C(ProxyCommand), C(ProxyUseFdpass));
    local commands (C(LocalCommand), C(PermitLocalCommand), C(KnownHostsCommand)); other configuration (C(-F), C(Include), C(Match),
    C(Host), C(Hostname)); shared connections (C(-M), C(-O), C(-S), C(ControlMaster), C(ControlPath), C(ControlPersist));
    other ways to log in (C(PreferredAuthentications), C(PasswordAuthentication), C(KbdInteractiveAuthentication),
    C(ChallengeResponseAuthentication), C(HostbasedAuthentication), C(GSSAPIAuthentication), C(EnableSSHKeysign), C(BatchMode));
    arguments that make ssh end without logging in or without running the command (C(-G), C(-V), C(-Q), C(-N), C(-f), C(-s), C(-W),
    C(-w), C(RemoteCommand), C(SessionType), C(ForkAfterAuthentication), C(StdinNull), C(Tunnel)); and any argument that is not an
    option, which ssh would take as the host.
  - The role C(tencentcloud.cvm.key_rotation) refuses its C(key_rotation_ssh_extra_args) when this list is not empty.
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
options:
  _input:
    description: The extra ssh arguments, one string as in C(ansible_ssh_extra_args).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse extra arguments that could log in with another key
  ansible.builtin.assert:
    that: extra_args | tencentcloud.cvm.refused_ssh_args | length == 0
    fail_msg: "Refused ssh arguments: {{ extra_args | tencentcloud.cvm.refused_ssh_args | join(', ') }}"
  vars:
    extra_args: "-o UserKnownHostsFile=/dev/null -i ~/.ssh/old_key"
"""

RETURN = r"""
_value:
  description: The refused arguments, each with its value, in the order given; empty when every argument is acceptable.
  type: list
  elements: str
  sample: ["-i ~/.ssh/old_key", "-o ProxyCommand=nc %h 22"]
"""

import re
import shlex

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

# ssh's flags (OpenSSH 9): those that take a value, those that do not; the refused ones of each.
FLAGS_WITH_VALUE = "BbcDEeFIiJLlmOoPpQRSWw"
FLAGS_WITHOUT_VALUE = "46AaCfGgKkMNnqsTtVvXxYy"
REFUSED_FLAGS = "FIiJOQSWwfGMNsV"
REFUSED_KEYWORDS = frozenset(
    (
        "identityfile",
        "identityagent",
        "certificatefile",
        "addkeystoagent",
        "pkcs11provider",
        "securitykeyprovider",
        "identitiesonly",
        "proxyjump",
        "proxycommand",
        "proxyusefdpass",
        "localcommand",
        "permitlocalcommand",
        "knownhostscommand",
        "include",
        "match",
        "host",
        "hostname",
        "controlmaster",
        "controlpath",
        "controlpersist",
        "preferredauthentications",
        "passwordauthentication",
        "kbdinteractiveauthentication",
        "challengeresponseauthentication",
        "hostbasedauthentication",
        "gssapiauthentication",
        "enablesshkeysign",
        "batchmode",
        "remotecommand",
        "sessiontype",
        "forkafterauthentication",
        "stdinnull",
        "tunnel",
    )
)


def _keyword(option):
    return re.split(r"[\s=]", option.strip(), maxsplit=1)[0].lower()


def refused_ssh_args(value):
    """The arguments of `value` (one string, split like shlex) that the login check must not run with."""
    if value is None:
        return []
    if not isinstance(value, str):
        raise AnsibleFilterError("ssh arguments must be one string like '-o ConnectTimeout=10', not %r" % (value,))
    try:
        words = shlex.split(to_text(value))
    except ValueError as error:
        return ["%s (it cannot be split like a shell would: %s)" % (value, error)]
    refused = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("-") or word in ("-", "--"):
            refused.append("%s (not an option: ssh would take it as the host)" % word)
            continue
        more, index = _refused_in_option(word, words, index)
        refused.extend(more)
    return refused


def _refused_in_option(word, words, index):
    """What one option word (its bundled flags, and the value the last may take: the rest of the word or words[index])
    adds to the refused list, and the index of the next word."""
    refused = []
    position = 1
    while position < len(word):
        flag = word[position]
        position += 1
        if flag in FLAGS_WITH_VALUE:
            if position < len(word):
                option_value = word[position:]
            elif index < len(words):
                option_value = words[index]
                index += 1
            else:
                option_value = ""
            shown = "-%s %s" % (flag, option_value)
            if flag in REFUSED_FLAGS or (flag == "o" and _keyword(option_value) in REFUSED_KEYWORDS):
                refused.append(shown.strip())
            elif flag == "o" and not option_value.strip():
                refused.append("-o (without an option)")
            break
        if flag not in FLAGS_WITHOUT_VALUE or flag in REFUSED_FLAGS:
            refused.append("-%s" % flag)
    return refused, index


class FilterModule:
    """The filters of this file, as ansible-core's filter loader asks for them."""

    def filters(self):
        return {"refused_ssh_args": refused_ssh_args}

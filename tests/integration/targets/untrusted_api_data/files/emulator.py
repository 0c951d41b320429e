# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Load a hostile fleet into the CVM emulator, or reset it: names, tags, key names and addresses that anyone allowed to edit
an instance or a key pair could set. Usage: python files/emulator.py load MARKER_PREFIX | reset

Each hostile value, if Ansible ever ran it, would create a file MARKER_PREFIX_<where> (runme.sh checks that none appears).
The emulator's URL comes from EMULATOR_URL; its control API token (if any) from TC_EMULATOR_TOKEN.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def call(method, path, document=None):
    headers = {"Content-Type": "application/json", "X-Emulator-Token": os.environ.get("TC_EMULATOR_TOKEN", "")}
    request = urllib.request.Request(os.environ["EMULATOR_URL"] + "/_emulator/" + path, method=method, headers=headers,
                                     data=None if document is None else json.dumps(document).encode("utf-8"))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never through a proxy
    with opener.open(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


def touch(marker, where):
    return "{{ lookup('ansible.builtin.pipe', 'touch %s_%s') }}" % (marker, where)


def hostile(state, marker):
    for instance in state["instances"]:
        number = instance["InstanceId"]
        if number == "ins-a1000001":  # a running instance: template name, tag and OS name
            instance.update(InstanceName=touch(marker, "name"), OsName=touch(marker, "os"),
                            Tags=[{"Key": "env", "Value": "prod"}, {"Key": "role", "Value": touch(marker, "tag")}])
        elif number == "ins-a1000002":  # terminal escapes, a carriage return and a line feed in a name
            instance["InstanceName"] = "web\x1b[2J\x1b[31mevil\r\nname\x9b"
        elif number == "ins-a1000003":  # an address that ssh would take as an option
            instance.update(InstanceName="addr-probe", PrivateIpAddresses=["-oProxyCommand=touch %s_ssh_%%h" % marker])
        elif number == "ins-a1000004":  # stopped, without the required key: the event the remediation playbook gets
            instance.update(InstanceName="{%% if lookup('ansible.builtin.pipe', 'touch %s_stmt') %%}{%% endif %%}" % marker,
                            Tags=[{"Key": "env", "Value": "prod"}, {"Key": touch(marker, "tagkey"), "Value": "x"}])
        elif number == "ins-a1000005":  # bound to the key pair with a hostile name
            instance["LoginSettings"]["KeyIds"] = ["skey-k1000003"]
    for pair in state["key_pairs"]:
        if pair["KeyId"] == "skey-k1000003":
            pair["KeyName"] = touch(marker, "keyname")
            pair["Description"] = touch(marker, "keydescription")
    return state


def main():
    call("POST", "reset?all=1")
    if sys.argv[1] == "load":
        call("PUT", "state", hostile(call("GET", "state"), sys.argv[2]))


if __name__ == "__main__":
    main()

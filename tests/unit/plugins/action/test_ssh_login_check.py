# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ssh_login_check's own rules (narrow: the key_rotation role's end-to-end tests run it against real sshd): what it refuses
before any login, the command line it builds, and one real ssh process against a closed loopback port."""
# pylint: disable=protected-access  # a narrow unit test reaches the internals it is about

from __future__ import annotations

import shutil

import pytest

from ansible_collections.tencentcloud.cvm.plugins.action.ssh_login_check import FIXED_OPTIONS, ActionModule, printable

ARGS = {
    "targets": {},
    "private_key_path": "/keys/new.pem",
    "user": "root",
    "ssh_extra_args": "",
    "timeout": 5,
    "connect_timeout": 5,
    "parallel": 20,
    "allowed_networks": [],
}


def args(**changes):
    return dict(ARGS, **changes)


def test_good_arguments_have_no_problem():
    assert ActionModule._problems(args(ssh_extra_args="-o UserKnownHostsFile=/dev/null -p 2222")) == []


@pytest.mark.parametrize(
    "changes,named",
    [
        ({"ssh_extra_args": "-i old.pem"}, "ssh_extra_args holds -i old.pem"),
        ({"ssh_extra_args": "-o ProxyCommand=x"}, "ssh_extra_args holds -o ProxyCommand=x"),
        ({"parallel": 0}, "parallel must be a positive number, not 0"),
        ({"timeout": -1}, "timeout must be a positive number, not -1"),
        ({"user": "-oProxyCommand=x"}, "user '-oProxyCommand=x' is not a login name"),
        ({"user": "root\nx"}, "is not a login name"),
        ({"user": ""}, "user '' is not a login name"),
    ],
)
def test_what_could_log_in_otherwise_or_makes_no_sense_is_named(changes, named):
    problems = ActionModule._problems(args(**changes))
    assert any(named in problem for problem in problems), problems


def test_the_fixed_options_come_first_so_that_extra_arguments_cannot_override_them():
    command = ActionModule._command(args(ssh_extra_args="-o IdentitiesOnly=no"))
    assert command[: 1 + len(FIXED_OPTIONS)] == ["ssh"] + list(FIXED_OPTIONS)
    assert command.index("IdentitiesOnly=yes") < command.index("IdentitiesOnly=no")
    assert command[command.index("-i") + 1] == "/keys/new.pem" and command[command.index("-l") + 1] == "root"


@pytest.mark.parametrize(
    "text,shown",
    [
        ("", "ssh gave no reason"),
        ("Warning: added\nroot@10.0.0.1: Permission denied (publickey).\n", "root@10.0.0.1: Permission denied (publickey)."),
        ("bad \x1b[31mred\x1b[0m\r\n", "bad [31mred [0m"),
        ("x" * 400, "x" * 300),
    ],
)
def test_ssh_complaints_become_one_printable_line(text, shown):
    assert printable(text) == shown


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs the ssh client")
def test_a_closed_port_is_retried_until_the_time_is_up_and_named():
    # Port 1 of the loopback address: nothing listens, the kernel refuses at once.
    ok, reason, tries = ActionModule._login(ActionModule._command(args(ssh_extra_args="-p 1", timeout=2)), "127.0.0.1", args(timeout=2))
    assert not ok and tries >= 1
    assert "Connection refused" in reason and "in 2 seconds" in reason

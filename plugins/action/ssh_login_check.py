# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of tencentcloud.cvm.ssh_login_check (documented in plugins/modules/ssh_login_check.py).

Runs the real ssh client from the controller in a bounded thread pool: one ssh process per attempt, each with only the
given private key, no configuration file, no agent, no shared connection and no other authentication method, so a login
that works proves that key. The addresses and the extra arguments are checked with the same filters the role uses, here
too, so that the module is safe on its own.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from ansible import constants as C
from ansible.plugins.action import ActionBase

from ansible_collections.tencentcloud.cvm.plugins.filter.login_address import login_address
from ansible_collections.tencentcloud.cvm.plugins.filter.refused_ssh_args import refused_ssh_args

ARGUMENT_SPEC = {
    "targets": {"type": "dict", "required": True},
    "private_key_path": {"type": "path", "required": True},
    "user": {"type": "str", "required": True},
    "ssh_extra_args": {"type": "str", "default": ""},
    "timeout": {"type": "int", "default": 60},
    "connect_timeout": {"type": "int", "default": 5},
    "parallel": {"type": "int", "default": 20},
    "allowed_networks": {"type": "list", "elements": "str", "default": []},
}

# First on the command line, so that they win: ssh keeps the first value it reads for an option.
FIXED_OPTIONS = (
    "-F",
    "/dev/null",
    "-T",
    "-o",
    "ControlMaster=no",
    "-o",
    "ControlPath=none",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "IdentityAgent=none",
    "-o",
    "PreferredAuthentications=publickey",
    "-o",
    "PasswordAuthentication=no",
    "-o",
    "KbdInteractiveAuthentication=no",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectionAttempts=1",
)
RETRY_PAUSE = 1.0
# `timeout` bounds when an attempt may start. One under way may run this much longer: on a busy controller or host a login
# that is slow, not refused, must not count as failed; and ssh that hangs after the connection (no ConnectTimeout applies) ends.
ATTEMPT_GRACE = 60
REASON_LENGTH = 300


def printable(text):
    """ssh's last complaint, one line of printable characters: what reaches the report and the job output."""
    lines = [line for line in text.splitlines() if line.strip()]
    last = lines[-1] if lines else "ssh gave no reason"
    return " ".join("".join(char if char.isprintable() else " " for char in last).split())[:REASON_LENGTH]


class ActionModule(ActionBase):
    """Log in to each host with the new key only, in a bounded pool of ssh processes, until it works or time runs out."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        del validation
        problems = self._problems(args)
        if problems:
            result.update(failed=True, msg="%s. Nothing was logged in to." % "; ".join(problems))
            return result
        addresses, refused = {}, {}
        for instance_id, value in args["targets"].items():
            checked = login_address(value, args["allowed_networks"])
            if checked["address"]:
                addresses[str(instance_id)] = checked["address"]
            else:
                refused[str(instance_id)] = "no address to log in to (%s)" % "; ".join(checked["refused"])
        if self._task.check_mode:
            result.update(changed=False, passed=[], failures=refused, skipped_logins=sorted(addresses), msg="check mode: no login was tried")
            return result
        command = self._command(args)
        with ThreadPoolExecutor(max_workers=args["parallel"]) as pool:
            outcomes = dict(zip(addresses, pool.map(lambda address: self._login(command, address, args), addresses.values())))
        passed = sorted(instance_id for instance_id, (ok, _reason, _tries) in outcomes.items() if ok)
        failures = dict(refused, **{instance_id: reason for instance_id, (ok, reason, _tries) in outcomes.items() if not ok})
        result.update(changed=False, passed=passed, failures=dict(sorted(failures.items())), attempts=sum(tries for _ok, _reason, tries in outcomes.values()))
        return result

    @staticmethod
    def _problems(args):
        problems = []
        refused = refused_ssh_args(args["ssh_extra_args"])
        if refused:
            problems.append("ssh_extra_args holds %s: the check must use the given key and nothing else; remove them" % "; ".join(refused))
        for name in ("timeout", "connect_timeout", "parallel"):
            if args[name] < 1:
                problems.append("%s must be a positive number, not %d" % (name, args[name]))
        user = args["user"]
        if not user or user.startswith("-") or not user.isprintable() or any(char.isspace() for char in user):
            problems.append("user %r is not a login name" % (user[:100],))
        return problems

    @staticmethod
    def _command(args):
        command = ["ssh"] + list(FIXED_OPTIONS) + ["-o", "ConnectTimeout=%d" % args["connect_timeout"], "-i", args["private_key_path"], "-l", args["user"]]
        if not C.HOST_KEY_CHECKING:  # type: ignore[attr-defined]  # pylint: disable=no-member  # set from ansible.cfg at import
            command += ["-o", "StrictHostKeyChecking=no"]  # as Ansible's ssh connection does with host_key_checking off
        return command + shlex.split(args["ssh_extra_args"] or "")

    @staticmethod
    def _login(command, address, args):
        """(logged in, the last failure's reason, attempts): tries until it works or `timeout` seconds have passed."""
        deadline = time.monotonic() + args["timeout"]
        tries = 0
        while True:
            tries += 1
            cap = max(deadline - time.monotonic(), args["connect_timeout"]) + ATTEMPT_GRACE
            try:
                # "--": the address can never be read as an option (it is an IP address already; this is the second fence).
                proc = subprocess.run(command + ["--", address, "true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=cap, check=False)
            except subprocess.TimeoutExpired:
                return False, "no answer within %d seconds" % cap, tries
            if proc.returncode == 0:
                return True, "", tries
            reason = printable(proc.stderr.decode("utf-8", "replace"))
            if time.monotonic() + RETRY_PAUSE >= deadline:
                return False, "%s (%d attempt%s in %d seconds)" % (reason, tries, "" if tries == 1 else "s", args["timeout"]), tries
            time.sleep(RETRY_PAUSE)

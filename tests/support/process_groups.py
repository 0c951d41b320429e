# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commands that leave nothing behind: the runners' (tests/support/stages.py, tests/awx/ee_build.py) way to start them.

Each command gets a process group of its own, so that stopping it stops everything it started (nox and ansible-test
under it, podman under ansible-builder, the emulator's shell wrapper with its trap). A TERM, HUP or INT to the runner
becomes an exception (`Interrupted`, exit status 128 + the signal), so cleanup code in `finally` and `with` blocks
runs; while it runs, further signals are ignored, so the cleanup itself cannot be cut short.

    interrupt_on_signals()
    with Commands() as commands:
        lane = commands.start(["nox", "-s", "units-2.21"], stdout=log)
        rc = lane.wait()          # on an exception here, the block's end stops the whole group

Standard library only.
"""

from __future__ import annotations

import os
import signal
import subprocess

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 30  # for a graceful stop: the emulator's shutdown, ansible-test's and podman's cleanup


class Interrupted(SystemExit):
    """A signal asked the runner to stop; uncaught, it exits with 128 + the signal's number, as a shell would."""


def _raise_interrupted(signum, _frame):
    for number in SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    raise Interrupted(128 + signum)


def interrupt_on_signals():
    for number in SIGNALS:
        signal.signal(number, _raise_interrupted)


def stop_group(proc, grace=GRACE_SECONDS):
    """TERM to the command's process group, KILL to what still runs after `grace` seconds; then reap it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


class Commands:
    """Commands started in process groups of their own; those still running when the block ends are stopped."""

    def __init__(self):
        self.started = []

    def __enter__(self):
        return self

    def start(self, command, **kwargs):
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen(command, process_group=0, **kwargs)  # pylint: disable=consider-using-with
        self.started.append(proc)
        return proc

    def __exit__(self, *_exc):
        for proc in self.started:
            if proc.poll() is None:
                stop_group(proc)


def run(command, **kwargs):
    """Run one command in a group of its own and return its exit status; interrupted, the group is stopped."""
    with Commands() as commands:
        return commands.start(command, **kwargs).wait()

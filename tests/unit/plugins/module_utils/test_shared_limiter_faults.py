# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared rate limit never hangs or crashes a run: corrupted state files, a lock nobody releases, absurd times."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import time

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _shared_limiter as shared
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import RateLimiter
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.module_utils.fake_clock import FakeClock
# pylint: disable=protected-access  # a narrow unit test reaches the internals it is about

WINDOW = 1.01
START = 1000.0
TOKEN = "0123456789abcdef"

# Files that are not a state this collection wrote: each is replaced, with one warning, and never raised.
CORRUPTED = {
    "old four-field slot with null times": b'{"slots":[["t",1,null,null]]}',
    "old slot of pid 1": b'{"paused_until":0,"slots":[["1-2-3",1,1000.0,null]]}',
    "old slot of pid -1": b'{"paused_until":0,"slots":[["1-2-3",-1,1000.0,null]]}',
    "huge pid": b'{"paused_until":0,"slots":[["1-2-3",99999999999999999999999999,1000.0,null]]}',
    "string pid": b'{"paused_until":0,"slots":[["1-2-3","12",1000.0,null]]}',
    "NaN pause": b'{"paused_until":NaN,"slots":[]}',
    "Infinity pause": b'{"paused_until":Infinity,"slots":[]}',
    "overflowing pause": b'{"paused_until":1e400,"slots":[]}',
    "string pause": b'{"paused_until":"0","slots":[]}',
    "boolean pause": b'{"paused_until":true,"slots":[]}',
    "NaN sent time": b'{"paused_until":0,"slots":[["0123456789abcdef",NaN,null]]}',
    "string sent time": b'{"paused_until":0,"slots":[["0123456789abcdef","1000",null]]}',
    "boolean answer time": b'{"paused_until":0,"slots":[["0123456789abcdef",1000.0,true]]}',
    "upper-case token": b'{"paused_until":0,"slots":[["0123456789ABCDEF",1000.0,null]]}',
    "token with a newline": b'{"paused_until":0,"slots":[["0123456789abcdef\\n",1000.0,null]]}',
    "slots as an object": b'{"paused_until":0,"slots":{}}',
    "slot as an object": b'{"paused_until":0,"slots":[{"token":"0123456789abcdef"}]}',
    "no slots": b'{"paused_until":0}',
    "a list": b"[]",
    "a string": b'"state"',
    "null": b"null",
    "torn": b'{"paused_until":0,"slots":[[',
    "not ASCII": '{"paused_until":0,"slots":[],"n":"\u00e9"}'.encode("utf-8"),
    "binary": bytes(range(256)),
    "zeros": b"\0" * 4096,
    "deep nesting": b"[" * 200000,
    "oversized, 50 MB": b" " * (50 * 1024 * 1024),
}

# Well-formed files with times no process of this boot can have written: used, never waited on.
ABSURD = {
    "pause far in the future": b'{"paused_until":1e300,"slots":[]}',
    "pause before the epoch of the clock": b'{"paused_until":-1e300,"slots":[]}',
    "slot sent in the future": b'{"paused_until":0,"slots":[["0123456789abcdef",1e300,null]]}',
    "slot answered in the future": b'{"paused_until":0,"slots":[["0123456789abcdef",1000.0,1e300]]}',
    "slots of processes long gone": ('{"paused_until":0,"slots":[%s]}' % ",".join('["%016x",1000.0,null]' % n for n in range(1000))).encode("ascii"),
}


def write(path, content):
    with open(path, "wb") as handle:
        handle.write(content)


@pytest.mark.parametrize("name", sorted(CORRUPTED))
def test_a_corrupted_state_file_is_replaced_with_one_warning(folder, name):
    clock = FakeClock(START)
    path = os.path.join(folder, "x.rate")
    write(path, CORRUPTED[name])
    reports = []
    one = shared.SharedRateLimiter(path, 2, WINDOW, clock=clock, sleep=clock.sleep, report=reports.append)
    one.release(one.acquire())
    one.acquire()
    assert clock.sleeps == []
    assert len(reports) == 1 and "was replaced" in reports[0]
    with open(path, "rb") as handle:
        state, problem = shared.parse_state(handle.read())
    assert problem == "" and len(state["slots"]) == 2


@pytest.mark.parametrize("name", sorted(ABSURD))
def test_absurd_times_are_dropped_not_waited_on(folder, name):
    clock = FakeClock(START + 10.0)
    path = os.path.join(folder, "x.rate")
    write(path, ABSURD[name])
    reports = []
    one = shared.SharedRateLimiter(path, 2, WINDOW, clock=clock, sleep=clock.sleep, report=reports.append)
    one.acquire()
    one.acquire()
    assert clock.sleeps == [] and reports == []


def test_a_50_mb_file_is_not_read_whole():
    assert shared.parse_state(CORRUPTED["oversized, 50 MB"][: shared.MAX_STATE_BYTES + 1])[1] == "it is larger than %d bytes" % shared.MAX_STATE_BYTES


def test_make_limiter_warns_once_for_a_replaced_file(folder):
    warnings = []
    for action in ("DescribeKeyPairs", "DescribeInstances"):
        write(os.path.join(folder, shared.state_file_name("AKIDx", "ap-guangzhou", "http://127.0.0.1:9", action)), b"NaN")
        made = shared.make_limiter(
            "AKIDx", "ap-guangzhou", "http://127.0.0.1:9", action, 10, WINDOW, lambda: RateLimiter(10), warn=warnings.append, folder=folder
        )
        made.release(made.acquire())
    assert len(warnings) == 1 and "was replaced" in warnings[0] and "AKIDx" not in warnings[0]


def hold_lock(path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another open file description: as if another process held it
    return fd


def test_a_lock_nobody_releases_means_the_in_process_limiter_after_the_bound(folder, monkeypatch):
    monkeypatch.setattr(shared, "FALLBACK_AFTER", 0.2)
    warnings = []
    path = os.path.join(folder, shared.state_file_name("AKIDx", "ap-guangzhou", "http://127.0.0.1:9", "DescribeKeyPairs"))
    fd = hold_lock(path)
    try:
        local = RateLimiter(10)
        made = shared.make_limiter(
            "AKIDx", "ap-guangzhou", "http://127.0.0.1:9", "DescribeKeyPairs", 10, WINDOW, lambda: local, warn=warnings.append, folder=folder
        )
    finally:
        os.close(fd)
    assert made is local
    assert len(warnings) == 1 and "stayed locked for 0 s" in warnings[0] and shared.FOLDER_ENV in warnings[0]


def test_a_lock_taken_later_falls_back_once_and_goes_on(folder, monkeypatch):
    monkeypatch.setattr(shared, "FALLBACK_AFTER", 0.2)
    warnings = []
    made = shared.make_limiter(
        "AKIDx", "ap-guangzhou", "http://127.0.0.1:9", "DescribeKeyPairs", 10, WINDOW, lambda: RateLimiter(10), warn=warnings.append, folder=folder
    )
    slot = made.acquire()
    other = made.acquire()
    fd = hold_lock(os.path.join(folder, shared.state_file_name("AKIDx", "ap-guangzhou", "http://127.0.0.1:9", "DescribeKeyPairs")))
    try:
        made.release(slot)  # the state cannot be written: the slot file is released all the same
        tries = []
        monkeypatch.setattr(shared, "lock_within", lambda *args, **kwargs: tries.append(args) or False)
        made.release(other)  # fallen back: released without waiting on the state file again
        assert tries == []
        for _request in range(3):
            made.release(made.acquire())
    finally:
        os.close(fd)
    assert len(warnings) == 1 and "stayed locked" in warnings[0]
    assert [n for n in os.listdir(folder) if n.endswith(shared.SLOT_SUFFIX)] == []


def test_a_pause_is_capped(folder):
    clock = FakeClock(START)
    path = os.path.join(folder, "x.rate")
    one = shared.SharedRateLimiter(path, 2, WINDOW, clock=clock, sleep=clock.sleep)
    one.pause(10**9)
    one.acquire()
    assert clock.now - START <= shared.MAX_PAUSE + shared.MAX_JITTER + 0.002


# -- what is not a regular file ------------------------------------------------------------------------------------------


class Hung(Exception):
    pass


@pytest.fixture
def hang_guard():
    """Turns a call that would block forever (opening a FIFO for reading) into a failure: SIGALRM interrupts it."""

    def alarm(_signum, _frame):
        raise Hung("blocked on a file of the rate limit folder")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def make_odd(kind, path, outside):
    """Put a `kind` that is not a regular file at `path` (relative to the current folder: a socket's name is short)."""
    if kind == "FIFO":
        os.mkfifo(path)
    elif kind == "folder":
        os.mkdir(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(os.path.basename(path))
        sock.close()
    else:  # a link to a FIFO elsewhere: following it would block
        os.mkfifo(outside)
        os.symlink(outside, path)


ODD = ["FIFO", "folder", "socket", "symlink to a FIFO"]
ENDPOINT = "http://127.0.0.1:9"


@pytest.mark.parametrize("where", ["a stray name", "the state file"])
@pytest.mark.parametrize("kind", ODD)
@pytest.mark.usefixtures("hang_guard")
def test_what_is_not_a_regular_file_is_removed_with_one_warning_never_opened_blocking(folder, tmp_path, monkeypatch, kind, where):
    monkeypatch.chdir(folder)
    state = shared.state_file_name("AKIDx", "ap-guangzhou", ENDPOINT, "DescribeKeyPairs")
    name = "zz.rate" if where == "a stray name" else state
    make_odd(kind, name, str(tmp_path / "elsewhere"))
    warnings = []
    local = RateLimiter(10)
    made = shared.make_limiter("AKIDx", "ap-guangzhou", ENDPOINT, "DescribeKeyPairs", 10, WINDOW, lambda: local, warn=warnings.append, folder=folder)
    for _request in range(3):
        made.release(made.acquire())
    assert made is not local and made._local is None  # the shared limit works: the odd entry was removed, not fallen back on
    assert len(warnings) == 1 and "not a regular file" in warnings[0] and name in warnings[0] and shared.FOLDER_ENV in warnings[0], warnings
    assert not os.path.lexists(os.path.join(folder, "zz.rate"))
    with open(os.path.join(folder, state), "rb") as handle:
        assert shared.parse_state(handle.read())[1] == ""


@pytest.mark.parametrize("kind", ODD)
@pytest.mark.usefixtures("hang_guard")
def test_a_slot_file_that_is_not_a_regular_file_counts_no_more(folder, tmp_path, monkeypatch, kind):
    monkeypatch.chdir(folder)
    path = os.path.join(folder, shared.state_file_name("AKIDx", "ap-guangzhou", ENDPOINT, "DescribeKeyPairs"))
    reports = []
    limiter = shared.SharedRateLimiter(path, 1, WINDOW, report=reports.append)
    write(path, b'{"paused_until":0,"slots":[["%s",%r,null]]}' % (TOKEN.encode(), time.monotonic()))
    make_odd(kind, os.path.basename(limiter._slot_path(TOKEN)), str(tmp_path / "elsewhere"))
    limiter.release(limiter.acquire())  # rate 1: the one slot is free only if the odd slot file counts no more
    assert not os.path.lexists(limiter._slot_path(TOKEN))
    assert len(reports) == 1 and "not a regular file" in reports[0], reports


ACTIONS = ("DescribeInstances", "DescribeKeyPairs", "AssociateInstancesKeyPairs", "DisassociateInstancesKeyPairs")


def test_after_one_fallback_every_action_of_the_process_uses_its_in_process_limiter_at_once(folder, monkeypatch):
    """Every state file locked by a holder that never lets go: one wait of FALLBACK_AFTER in all, not one per action."""
    monkeypatch.setattr(shared, "FALLBACK_AFTER", 0.2)
    waits = []
    real_lock_within = shared.lock_within

    def counted(fd, seconds, *args, **kwargs):
        took = real_lock_within(fd, seconds, *args, **kwargs)
        waits.append(took)
        return took

    monkeypatch.setattr(shared, "lock_within", counted)
    made = shared.make_limiter("AKIDx", "ap-guangzhou", ENDPOINT, "DescribeKeyPairs", 10, WINDOW, lambda: RateLimiter(10), folder=folder)
    slot = made.acquire()  # a limiter made while the folder was fine, with a request in flight when the holder comes
    held = [hold_lock(os.path.join(folder, shared.state_file_name("AKIDx", "ap-guangzhou", ENDPOINT, action))) for action in ACTIONS]
    warnings = []
    try:
        limiters = [
            shared.make_limiter("AKIDx", "ap-guangzhou", ENDPOINT, action, 10, WINDOW, lambda: RateLimiter(10), warn=warnings.append, folder=folder)
            for action in ACTIONS
        ]
        for limiter in limiters + [made]:
            for _request in range(3):
                limiter.release(limiter.acquire())
        made.release(slot)
        made.pause(0.01)
    finally:
        for fd in held:
            os.close(fd)
    assert waits.count(False) == 1, waits  # one lock wait ran out (the first action's), and no lock was tried after it
    assert len(waits) == 3  # the first limiter's check, its acquire, and the wait that fell back; nothing after
    assert all(isinstance(limiter, RateLimiter) for limiter in limiters[1:]) and shared.fell_back()
    assert len(warnings) == 1 and "stayed locked" in warnings[0]

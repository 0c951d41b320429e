# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rate limit shared between processes: counting across limiters, the private folder, and the fallback."""

from __future__ import annotations

import os
import pathlib
import stat

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _shared_limiter as shared
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import RateLimiter
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.module_utils.fake_clock import FakeClock

WINDOW = 1.01


START = 1000.0  # where the fake clock starts; one clock drives several limiters, as if in several processes


def limiter(path, clock, rate=3, report=None):
    return shared.SharedRateLimiter(path, rate, WINDOW, clock=clock, sleep=clock.sleep, report=report)


def die(holder):
    """What the kernel does to the slot files of a process that ends (kill -9 included): their locks are gone."""
    for fd in holder._held.values():  # pylint: disable=protected-access
        os.close(fd)
    holder._held.clear()  # pylint: disable=protected-access


def test_two_limiters_on_one_file_share_the_rate(folder):
    clock = FakeClock(START)
    path = os.path.join(folder, "x.rate")
    first, second = limiter(path, clock), limiter(path, clock)
    tokens = [first.acquire(), second.acquire(), first.acquire()]
    assert clock.sleeps == []
    for token, owner in zip(tokens, (first, second, first)):
        owner.release(token)
    answered_at = clock.now
    second.acquire()  # the fourth request waits for the first answer's window to pass, whoever sent it
    assert clock.now - answered_at == pytest.approx(WINDOW, abs=shared.MAX_JITTER + 0.002)


def test_in_flight_requests_hold_their_slot_until_answered(folder):
    clock = FakeClock(START)
    path = os.path.join(folder, "x.rate")
    first, second = limiter(path, clock, rate=1), limiter(path, clock, rate=1)
    token = first.acquire()
    second_sleeps = []

    def answer_after_three_polls(seconds):
        second_sleeps.append(seconds)
        clock.now += seconds
        if len(second_sleeps) == 3:
            first.release(token)

    second._sleep = answer_after_three_polls  # pylint: disable=protected-access
    second.acquire()
    # Three short polls while the request was in flight, then one window after its answer.
    assert len(second_sleeps) == 4 and all(s <= shared.IN_FLIGHT_POLL + shared.MAX_JITTER for s in second_sleeps[:3])
    assert second_sleeps[3] == pytest.approx(WINDOW, abs=shared.MAX_JITTER + 0.002)


def test_slots_of_dead_processes_are_dropped(folder):
    clock = FakeClock(START)
    path = os.path.join(folder, "x.rate")
    crashed = limiter(path, clock, rate=2)
    crashed.acquire()
    crashed.acquire()  # both in flight when the process dies
    die(crashed)
    survivor = limiter(path, clock, rate=2)
    survivor.acquire()
    survivor.acquire()
    assert clock.sleeps == []
    held = [os.path.basename(survivor._slot_path(token)) for token in survivor._held]  # pylint: disable=protected-access
    assert sorted(n for n in os.listdir(folder) if n.endswith(shared.SLOT_SUFFIX)) == sorted(held)


def test_a_slot_of_a_live_process_counts_until_answered_or_the_fallback_bound(folder):
    clock = FakeClock(START)
    path = os.path.join(folder, "x.rate")
    stopped = limiter(path, clock, rate=2)
    stopped.acquire()
    stopped.acquire()  # in flight, its process alive but stopped: the slot files stay locked
    waiting = limiter(path, clock, rate=2)
    waiting.acquire()
    # It waited for the slots to count as answered (FALLBACK_AFTER after they were taken), then one window.
    assert clock.now - START == pytest.approx(shared.FALLBACK_AFTER + WINDOW, abs=shared.IN_FLIGHT_POLL + shared.MAX_JITTER + 0.01)


def test_a_pause_holds_every_process_back(folder):
    clock = FakeClock(START)
    path = os.path.join(folder, "x.rate")
    first, second = limiter(path, clock), limiter(path, clock)
    first.pause(2.0)
    start = clock.now
    second.acquire()
    assert clock.now - start == pytest.approx(2.0, abs=shared.MAX_JITTER + 0.002)


def test_a_torn_file_is_replaced_with_a_warning(folder):
    clock = FakeClock(START)
    path = os.path.join(folder, "x.rate")
    with open(path, "w", encoding="ascii") as handle:
        handle.write('{"slots": [[')
    reports = []
    limiter(path, clock, report=reports.append).acquire()
    assert clock.sleeps == []
    assert len(reports) == 1 and "was replaced: it is not ASCII JSON" in reports[0]
    with open(path, "rb") as handle:
        assert shared.parse_state(handle.read())[1] == ""


def test_file_names_and_contents_hold_no_secret(folder):
    clock = FakeClock(START)
    name = shared.state_file_name("AKIDsecretid123", "ap-guangzhou", "https://cvm.tencentcloudapi.com", "DescribeInstances")
    assert "AKID" not in name and "guangzhou" not in name
    assert name == shared.state_file_name("AKIDsecretid123", "ap-guangzhou", "https://cvm.tencentcloudapi.com", "DescribeInstances")
    others = {
        shared.state_file_name(*args)
        for args in (
            ("AKIDother", "ap-guangzhou", "https://cvm.tencentcloudapi.com", "DescribeInstances"),
            ("AKIDsecretid123", "ap-shanghai", "https://cvm.tencentcloudapi.com", "DescribeInstances"),
            ("AKIDsecretid123", "ap-guangzhou", "http://127.0.0.1:8400", "DescribeInstances"),
            ("AKIDsecretid123", "ap-guangzhou", "https://cvm.tencentcloudapi.com", "AssociateInstancesKeyPairs"),
        )
    }
    assert len(others) == 4 and name not in others
    path = os.path.join(folder, name)
    one = limiter(path, clock)
    one.release(one.acquire())
    with open(path, encoding="ascii") as handle:
        text = handle.read()
    assert "AKID" not in text and "ap-" not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_folder_is_private(tmp_path):
    path = shared.private_folder(str(tmp_path / "new"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    assert shared.private_folder(path) == path  # an existing private folder is fine


def open_folder(path):
    os.mkdir(path, 0o755)
    os.chmod(path, 0o755)  # whatever the umask


def link_to_folder(path):
    os.mkdir(path + "-target", 0o700)
    os.symlink(path + "-target", path)


@pytest.mark.parametrize(
    "make, reason",
    [
        (open_folder, "is open to other users (mode 755): it must be 0700"),
        (lambda p: pathlib.Path(p).touch(), "is not a folder"),
        (link_to_folder, "is not a folder (a link or a file is in its place)"),
    ],
)
def test_an_unusable_folder_means_the_in_process_limiter_with_a_warning(tmp_path, make, reason):
    path = str(tmp_path / "limits")
    make(path)
    warnings = []
    local = RateLimiter(10)
    made = shared.make_limiter(
        "AKIDx", "ap-guangzhou", "https://cvm.tencentcloudapi.com", "DescribeKeyPairs", 10, WINDOW, lambda: local, warn=warnings.append, folder=path
    )
    assert made is local
    assert len(warnings) == 1 and reason in warnings[0] and shared.FOLDER_ENV in warnings[0] and "AKIDx" not in warnings[0]
    shared.make_limiter(
        "AKIDx", "ap-guangzhou", "https://cvm.tencentcloudapi.com", "DescribeInstances", 40, WINDOW, lambda: RateLimiter(40), warn=warnings.append, folder=path
    )
    assert len(warnings) == 1  # once per process, not once per action


def test_a_folder_of_another_user_is_refused(tmp_path, monkeypatch):
    path = str(tmp_path / "limits")
    os.mkdir(path, 0o700)
    monkeypatch.setattr(shared.os, "getuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(shared.LimiterUnavailable, match="belongs to another user"):
        shared.private_folder(path)


def test_a_file_that_fails_later_falls_back_once(folder):
    warnings = []
    made = shared.make_limiter(
        "AKIDx", "ap-guangzhou", "http://127.0.0.1:9", "DescribeKeyPairs", 10, WINDOW, lambda: RateLimiter(10), warn=warnings.append, folder=folder
    )
    made.release(made.acquire())
    assert warnings == []
    (name,) = os.listdir(folder)
    os.remove(os.path.join(folder, name))
    os.mkdir(os.path.join(folder, name))  # something that cannot be opened as a file, even by root
    for _request in range(3):
        made.release(made.acquire())
    assert len(warnings) == 1 and "cannot open the rate limit file" in warnings[0]


def test_state_files_unused_for_an_hour_are_pruned(folder):
    old, recent = os.path.join(folder, "old.rate"), os.path.join(folder, "recent.rate")
    orphan = os.path.join(folder, "old-0123456789abcdef.slot")  # left by a process that died between two steps
    for path in (old, recent, orphan):
        pathlib.Path(path).touch()
    os.utime(old, (1000.0, 1000.0))
    os.utime(orphan, (1000.0, 1000.0))
    other = os.path.join(folder, "notes.txt")
    pathlib.Path(other).touch()
    os.utime(other, (1000.0, 1000.0))
    shared.make_limiter("AKIDx", "ap-guangzhou", "http://127.0.0.1:9", "DescribeKeyPairs", 10, WINDOW, lambda: RateLimiter(10), folder=folder)
    names = sorted(os.listdir(folder))
    assert "old.rate" not in names and "old-0123456789abcdef.slot" not in names and "recent.rate" in names and "notes.txt" in names
    assert len(names) == 3  # and the new limiter's own state file

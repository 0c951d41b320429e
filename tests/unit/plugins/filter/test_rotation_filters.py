# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters the key_rotation role plans and reports a rolling rotation with: rotation_batches and rotation_report (narrow:
the role's end-to-end tests run them in real role runs)."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.tencentcloud.cvm.plugins.filter.rotation_batches import rotation_batches
from ansible_collections.tencentcloud.cvm.plugins.filter.rotation_report import rotation_report

TEN = ["ins-%d" % number for number in range(10)]


@pytest.mark.parametrize(
    "size,lengths",
    [
        ("", [10]),
        (None, [10]),
        (0, [10]),
        ("0", [10]),
        ("100%", [10]),
        (10, [10]),
        (20, [10]),
        (3, [3, 3, 3, 1]),
        ("3", [3, 3, 3, 1]),
        (" 4 ", [4, 4, 2]),
        ("10%", [1] * 10),
        ("25%", [3, 3, 3, 1]),
        ("1%", [1] * 10),
        ("50%", [5, 5]),
        ("99%", [10]),
    ],
)
def test_batches_are_a_count_or_a_share_rounded_up(size, lengths):
    batches = rotation_batches(TEN, size)
    assert [len(batch) for batch in batches] == lengths
    assert [item for batch in batches for item in batch] == TEN


def test_no_items_make_no_batch():
    assert rotation_batches([], "10%") == [] and rotation_batches([], 5) == []


@pytest.mark.parametrize("size", ["ten", "-1", "10.5", "101%", "%", "10 %x", True, 2.5, [10]])
def test_a_size_that_is_neither_a_count_nor_a_percentage_fails_naming_it(size):
    with pytest.raises(AnsibleFilterError, match="the batch size %s" % __import__("re").escape(repr(size))):
        rotation_batches(TEN, size)


def instance(number, state="RUNNING"):
    return {"instance_id": "ins-%d" % number, "instance_state": state, "key_ids": ["skey-old"]}


def test_each_target_gets_one_entry_saying_why():
    targets = [instance(1), instance(2), instance(3), instance(4), instance(5, "STOPPED"), instance(6)]
    outcome = {
        "hosts": {"ins-1": "web1"},
        "batches": [["ins-1", "ins-2"], ["ins-3"], ["ins-4"]],
        "attempted": 2,
        "passed": ["ins-1"],
        "failures": {"ins-2": "Permission denied (publickey)", "ins-3": "Connection refused"},
        "addresses": {"ins-6": {"address": "", "refused": ["'-oX' is not an IP address"]}},
        "halted": "the rollout stopped after batch 2 of 3",
        "new_key_name": "new_key",
        "retired_key_ids": ["skey-old"],
    }
    report = rotation_report(targets, outcome)
    assert [(e["instance_id"], e["host"], e["rotated"], e["batch"]) for e in report] == [
        ("ins-1", "web1", True, 1),
        ("ins-2", "ins-2", False, 1),
        ("ins-3", "ins-3", False, 2),
        ("ins-4", "ins-4", False, 3),
        ("ins-5", "ins-5", False, None),
        ("ins-6", "ins-6", False, None),
    ]
    reasons = [entry["reason"] for entry in report]
    assert reasons[0] == "logged in with the new key; the retired key pairs are unbound"
    assert reasons[1].startswith("logging in with the new key failed (Permission denied (publickey))")
    assert reasons[2].startswith("logging in with the new key failed (Connection refused)")
    assert reasons[3].startswith("not attempted: the rollout stopped after batch 2 of 3; nothing was changed on it")
    assert reasons[4].startswith("the instance is STOPPED")
    assert reasons[5] == "no address to log in to ('-oX' is not an IP address), so nothing was changed on it"


def test_check_mode_says_what_a_real_run_would_do():
    report = rotation_report(
        [instance(1)], {"batches": [["ins-1"]], "attempted": 1, "check_mode": True, "new_key_name": "new_key", "retired_key_ids": ["skey-old", "skey-other"]}
    )
    assert report[0]["reason"].startswith("check mode: a real run binds key pair new_key here and, once the new key logs in, unbinds skey-old;")

# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The event source's change detection: which events two polls of a region give (pure, no API)."""

from __future__ import annotations

import pytest

from ansible_collections.tencentcloud.cvm.plugins.plugin_utils._instance_changes import WatchedInstance, KeyPolicy, RegionTracker

OPS, DEPLOY, ALICE = "skey-k1000001", "skey-k1000002", "skey-k1000003"


def rec(instance_id, state="STOPPED", keys=(), tags=(("env", "prod"),), os_name="Debian 12.0 64bit"):
    return WatchedInstance(instance_id, "ap-guangzhou", state, keys, tags, "name-" + instance_id[-1], os_name)


def changes(events):
    return [(e["cvm_instance"]["instance_id"], e["cvm_instance"]["changes"]) for e in events]


FLEET = [rec("ins-a0000001", keys=[OPS]), rec("ins-a0000002"), rec("ins-a0000003", "RUNNING", [OPS, ALICE])]
POLICY = KeyPolicy(required=[OPS], allowed=[DEPLOY])


@pytest.mark.parametrize(
    "start_with, expected",
    [
        ("changes", []),
        ("violations", [("ins-a0000002", ["existing", "policy"]), ("ins-a0000003", ["existing", "policy"])]),
        ("all", [("ins-a0000001", ["existing"]), ("ins-a0000002", ["existing", "policy"]), ("ins-a0000003", ["existing", "policy"])]),
    ],
)
def test_what_the_first_poll_reports(start_with, expected):
    tracker = RegionTracker("ap-guangzhou", POLICY, start_with)
    assert changes(tracker.update(FLEET)) == expected
    assert changes(tracker.update(FLEET)) == []  # the same fleet again: nothing


def test_an_unchanged_fleet_without_policy_gives_nothing_after_start():
    tracker = RegionTracker("ap-guangzhou", KeyPolicy())
    assert tracker.update(FLEET) == [] and tracker.update(list(reversed(FLEET))) == []


def test_appeared_state_keys_and_gone():
    tracker = RegionTracker("ap-guangzhou", KeyPolicy())
    tracker.update(FLEET)
    events = tracker.update([rec("ins-a0000001", "RUNNING", [OPS]), rec("ins-a0000002", keys=[DEPLOY]), rec("ins-a0000004")])
    assert changes(events) == [("ins-a0000001", ["state"]), ("ins-a0000002", ["keys"]), ("ins-a0000004", ["appeared"]), ("ins-a0000003", ["gone"])]
    assert events[0]["cvm_instance"]["previous"] == {"state": "STOPPED", "key_ids": [OPS]}
    assert events[2]["cvm_instance"]["previous"] is None


def test_the_whole_event():
    tracker = RegionTracker("ap-guangzhou", POLICY)
    tracker.update([])
    event = tracker.update([rec("ins-a0000009", "RUNNING", [ALICE], tags=(("role", "web"), ("env", "prod")))])[0]
    assert event == {
        "cvm_instance": {
            "instance_id": "ins-a0000009",
            "region": "ap-guangzhou",
            "instance_name": "name-9",
            "state": "RUNNING",
            "key_ids": [ALICE],
            "tags": {"env": "prod", "role": "web"},
            "os_name": "Debian 12.0 64bit",
            "changes": ["appeared", "policy"],
            "previous": None,
            "policy": {
                "compliant": False,
                "missing_key_ids": [OPS],
                "unexpected_key_ids": [ALICE],
                "required_key_ids": [OPS],
                "allowed_key_ids": [OPS, DEPLOY],
            },
        }
    }


def test_a_violation_is_reported_when_it_starts_or_changes_not_at_every_poll():
    tracker = RegionTracker("ap-guangzhou", POLICY)
    tracker.update([rec("ins-a0000001", keys=[OPS])])
    assert changes(tracker.update([rec("ins-a0000001", keys=[OPS, ALICE])])) == [("ins-a0000001", ["keys", "policy"])]
    assert tracker.update([rec("ins-a0000001", keys=[OPS, ALICE])]) == []  # still off policy: quiet
    events = tracker.update([rec("ins-a0000001", "RUNNING", [OPS, ALICE])])  # state changes, same violation
    assert changes(events) == [("ins-a0000001", ["state"])] and events[0]["cvm_instance"]["policy"]["compliant"] is False
    assert changes(tracker.update([rec("ins-a0000001", "RUNNING", [ALICE])])) == [("ins-a0000001", ["keys", "policy"])]  # now also missing
    events = tracker.update([rec("ins-a0000001", "RUNNING", [OPS])])  # repaired
    assert changes(events) == [("ins-a0000001", ["keys"])] and events[0]["cvm_instance"]["policy"]["compliant"] is True
    assert changes(tracker.update([rec("ins-a0000001", "RUNNING", [OPS, ALICE])])) == [("ins-a0000001", ["keys", "policy"])]  # again


def test_start_with_changes_keeps_an_old_violation_quiet_until_it_changes():
    tracker = RegionTracker("ap-guangzhou", POLICY, "changes")
    tracker.update([rec("ins-a0000002")])
    assert tracker.update([rec("ins-a0000002")]) == []
    assert changes(tracker.update([rec("ins-a0000002", keys=[ALICE])])) == [("ins-a0000002", ["keys", "policy"])]


def test_the_policy_waits_for_a_settled_linux_instance():
    tracker = RegionTracker("ap-guangzhou", POLICY)
    tracker.update([])
    events = tracker.update([rec("ins-a0000005", "PENDING"), rec("ins-a0000006", os_name="Windows Server 2022 Datacenter 64bit")])
    assert changes(events) == [("ins-a0000005", ["appeared"]), ("ins-a0000006", ["appeared"])]
    assert [e["cvm_instance"]["policy"] for e in events] == [None, None]
    assert changes(tracker.update([rec("ins-a0000005", "RUNNING"), rec("ins-a0000006", "RUNNING", os_name="Windows")])) == [
        ("ins-a0000005", ["state", "policy"]),
        ("ins-a0000006", ["state"]),
    ]


def test_policy_without_allowed_keys_allows_any_other_key():
    policy = KeyPolicy(required=[OPS])
    assert policy.check(rec("ins-a0000001", keys=[OPS, ALICE])) == {
        "compliant": True,
        "missing_key_ids": [],
        "unexpected_key_ids": [],
        "required_key_ids": [OPS],
        "allowed_key_ids": None,
    }
    assert KeyPolicy(allowed=[]).check(rec("ins-a0000001", keys=[ALICE]))["unexpected_key_ids"] == [ALICE]
    assert not KeyPolicy().active and KeyPolicy(allowed=[]).active


def test_an_incomplete_poll_reports_nobody_gone():
    tracker = RegionTracker("ap-guangzhou", KeyPolicy())
    tracker.update(FLEET)
    assert tracker.update(FLEET[:1], complete=False) == []
    assert changes(tracker.update(FLEET[:1])) == [("ins-a0000002", ["gone"]), ("ins-a0000003", ["gone"])]
    assert changes(tracker.update(FLEET[:1])) == []


def test_duplicates_across_pages_count_once():
    tracker = RegionTracker("ap-guangzhou", KeyPolicy(), "all")
    assert changes(tracker.update(FLEET + FLEET[:2])) == [(r.instance_id, ["existing"]) for r in FLEET]


def test_from_api_and_bad_start_with():
    record = WatchedInstance.from_api(
        {
            "InstanceId": "ins-a0000001",
            "InstanceState": "RUNNING",
            "LoginSettings": {"KeyIds": None},
            "Tags": [{"Key": "env", "Value": "prod"}],
            "OsName": "Windows Server",
        },
        "ap-shanghai",
    )
    assert (record.key_ids, record.tags, record.region, record.is_windows, record.name) == ((), (("env", "prod"),), "ap-shanghai", True, "")
    with pytest.raises(ValueError, match="start_with must be one of changes, violations, all, got 'new'"):
        RegionTracker("ap-guangzhou", KeyPolicy(), "new")

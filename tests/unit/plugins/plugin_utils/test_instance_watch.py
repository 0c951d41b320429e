# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The event source's arguments, paged reads and backoff, over an in-memory API (narrow: the rulebook test uses the emulator);
its DOCUMENTATION and JSON schema against the argument spec it checks."""

from __future__ import annotations

import ast
import json
import pathlib

import pytest
import yaml

from ansible_collections.tencentcloud.cvm.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError
from ansible_collections.tencentcloud.cvm.plugins.module_utils._lookup import KeyNameError
from ansible_collections.tencentcloud.cvm.plugins.plugin_utils import _instance_watch as watch
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.module_utils.fake_clock import FakeClock

SOURCE = pathlib.Path(__file__).resolve().parents[4] / "extensions" / "eda" / "plugins" / "event_source"
SECRET = "s3cretKeyValue0000"


@pytest.fixture(autouse=True)
def no_environment(monkeypatch):
    """No TENCENTCLOUD_* variable of the calling shell reaches the plugin."""
    for name in (
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_SECURITY_TOKEN",
        "TENCENTCLOUD_REGION",
        "TENCENTCLOUD_ENDPOINT",
        "TENCENTCLOUD_CA_BUNDLE",
        "TENCENTCLOUD_API_DEADLINE",
        "TENCENTCLOUD_ALLOW_INSECURE_HTTP",
    ):
        monkeypatch.delenv(name, raising=False)


class FleetApi:
    """DescribeInstances (Offset/Limit paging) and DescribeKeyPairs (key-name filter); `grow` adds an instance after each page."""

    def __init__(self, count, grow=False, fail=None):
        self.instances = [{"InstanceId": "ins-f%07d" % n, "InstanceState": "STOPPED", "LoginSettings": {"KeyIds": None}} for n in range(1, count + 1)]
        self.grow = grow
        self.fail = fail  # a CvmApiError to raise instead of answering, while set
        self.calls = []
        self.region = "ap-guangzhou"
        self.endpoint_url = "https://cvm.tencentcloudapi.com"

    def call(self, action, params, resend_safe=False):
        """CvmApi.call's contract: one page of instances (or the key pairs asked for) per call."""
        assert resend_safe, "%s is a read: it must be sent with resend_safe=True" % action
        self.calls.append((action, params))
        if self.fail is not None:
            raise self.fail
        if action == "DescribeKeyPairs":
            names = params["Filters"][0]["Values"]
            pairs = [{"KeyId": "skey-k1000001", "KeyName": "ops-team"}, {"KeyId": "skey-k1000002", "KeyName": "deploy"}]
            found = [p for p in pairs if p["KeyName"] in names]
            return {"TotalCount": len(found), "KeyPairSet": found}
        assert params["Limit"] == 100
        page = {"TotalCount": len(self.instances), "InstanceSet": self.instances[slice(params["Offset"], params["Offset"] + 100)]}
        if self.grow:
            self.instances.insert(0, {"InstanceId": "ins-g%07d" % len(self.calls), "InstanceState": "PENDING"})
        return page


def settings(**args):
    return watch.parse_arguments(dict({"region": "ap-guangzhou", "read_rate": 40}, **args))


def region_watch(api, clock=None, **args):
    return watch.RegionWatch(api, settings(**args), clock or FakeClock())


# -- arguments -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        ({"intervall": 5}, "Unknown options of tencentcloud.cvm.cvm_instances: 'intervall' (did you mean 'interval'?). Known options: "),
        ({"interval": 0}, "interval must be a whole number of seconds from 1 to 86400 (one day), got 0."),
        ({"read_rate": 41}, "read_rate must be from 1 to 40 (DescribeInstances' documented limit per region), got 41."),
        ({"start_with": "new"}, "value of start_with must be one of: changes, violations, all, got: new"),
        ({"region": None}, "regions is required: set the option regions (a list), or region or the environment variable TENCENTCLOUD_REGION"),
        ({"regions": ["ap-guangzhou", "Guangzhou"]}, "region 'Guangzhou' is not a Tencent Cloud region name"),
        ({"filters": {"tag:": "prod"}}, "filters has the filter 'tag:' without a tag key"),
        (
            {"required_keys": ["skey-1122", "ops-team"], "allowed_keys": [" "]},
            "Malformed key pair IDs in required_keys: 'skey-1122'. An ID is 'skey-' followed by 8 lowercase letters or digits",
        ),
        ({"endpoint": "http://user:pass@127.0.0.1:1"}, "holds user info (user:password@)"),
    ],
)
def test_bad_arguments_are_named(args, message):
    with pytest.raises(watch.SourceArgumentError) as caught:
        settings(**args)
    assert message in str(caught.value)


def test_no_secret_in_argument_errors():
    with pytest.raises(watch.SourceArgumentError) as caught:
        settings(secret_id="AKIDx", secret_key=SECRET, interval=SECRET)
    # ansible-core 2.16 and 2.17 do not quote the bad value in their message, newer releases do: the secret never shows.
    assert SECRET not in str(caught.value) and "'interval'" in str(caught.value)
    assert watch._masked("got %r" % SECRET, {SECRET}) == "got '********'"  # pylint: disable=protected-access


def test_arguments_from_the_environment_and_defaults(monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_REGION", "ap-shanghai")
    monkeypatch.setenv("TENCENTCLOUD_API_DEADLINE", "")  # an AWX credential's empty field: the default
    found = watch.parse_arguments({"eda_feedback_queue": object(), "filters": {}})
    assert (found["regions"], found["interval"], found["read_rate"], found["start_with"], found["filters"], found["api_deadline"]) == (
        ["ap-shanghai"],
        60,
        10,
        "changes",
        None,
        60,
    )


def test_secret_key_given_without_id_is_refused_before_any_request():
    with pytest.raises(watch.SourceArgumentError, match="Only half of an API key was given: secret_id"):
        watch.connect(settings(secret_key=SECRET), warn=None)


# -- reading ---------------------------------------------------------------------------------------------------------


def test_every_page_is_read_one_after_the_other():
    api = FleetApi(250)
    records, complete = region_watch(api).read()
    assert [params["Offset"] for _action, params in api.calls] == [0, 100, 200]
    assert (len(records), complete) == (250, True)


def test_a_fleet_that_changes_while_read_is_not_whole():
    records, complete = region_watch(FleetApi(250, grow=True)).read()
    assert complete is False and len(records) >= 250


def test_read_rate_spaces_the_pages():
    clock = FakeClock()
    region = region_watch(FleetApi(450), clock, read_rate=2)
    region.pacer = watch._client.RateLimiter(2, clock=clock, sleep=clock.sleep)  # pylint: disable=protected-access
    region.read()
    assert 2.0 <= sum(clock.sleeps) <= 2.2  # 5 pages at 2 a second: the 3rd and the 5th wait a window each


def test_key_names_resolve_to_ids_per_region():
    region = region_watch(FleetApi(1), required_keys=["ops-team", "skey-k1000003"], allowed_keys=["deploy"])
    events = region.poll() + region.poll()
    policy = region.tracker.policy
    assert (policy.required, policy.allowed, events) == (("skey-k1000001", "skey-k1000003"), ("skey-k1000001", "skey-k1000002", "skey-k1000003"), [])


def test_an_unknown_key_name_stops_the_source():
    with pytest.raises(KeyNameError, match="Key pair names not found in region ap-guangzhou: 'nobody'"):
        region_watch(FleetApi(1), required_keys=["nobody"]).poll()


# -- failures --------------------------------------------------------------------------------------------------------


def test_a_failing_region_reports_backs_off_and_recovers():
    clock = FakeClock()
    api = FleetApi(3, fail=CvmApiError("DescribeInstances", "InternalError", "boom", "req-1", attempts=4))
    region = region_watch(api, clock, interval=10, start_with="all")
    retries = []
    for _failure in range(8):
        (event,) = region.poll()
        error = event["cvm_instances_error"]
        retries.append(error["retry_in"])
        assert region.next_at == clock() + error["retry_in"]
    assert retries == [10, 20, 40, 80, 160, 320, 600, 600]
    assert error["code"] == "InternalError" and error["request_id"] == "req-1" and error["region"] == "ap-guangzhou"
    assert error["message"].startswith("Failed to read the instances of region ap-guangzhou: boom (InternalError). Gave up after 4 attempts")
    api.fail = None
    assert [e["cvm_instance"]["changes"] for e in region.poll()] == [["existing"]] * 3
    assert (region.failures, region.next_at) == (0, clock() + 10)


def test_an_unexpected_failure_is_named_by_its_type_only():
    api = FleetApi(1)
    api.fail = KeyError("a value that could be " + SECRET)
    (event,) = region_watch(api).poll()
    assert event["cvm_instances_error"]["code"] == "KeyError" and SECRET not in json.dumps(event)


def test_fleet_polls_only_the_regions_that_are_due():
    clock = FakeClock()
    apis = {"ap-guangzhou": FleetApi(2), "ap-shanghai": FleetApi(3)}
    apis["ap-shanghai"].region = "ap-shanghai"
    fleet = watch.FleetWatch(settings(regions=list(apis), interval=30, start_with="all"), apis, clock)
    assert len(fleet.poll_due()) == 5 and fleet.seconds_until_due() == 30
    clock.now += 10
    assert fleet.poll_due() == [] and [len(api.calls) for api in apis.values()] == [1, 1]
    clock.now += 20
    apis["ap-shanghai"].instances.pop()
    events = fleet.poll_due()
    assert [(e["cvm_instance"]["region"], e["cvm_instance"]["changes"]) for e in events] == [("ap-shanghai", ["gone"])]
    assert [len(api.calls) for api in apis.values()] == [2, 2]


# -- documentation and schema ----------------------------------------------------------------------------------------


def source_documentation():
    tree = ast.parse((SOURCE / "cvm_instances.py").read_text(encoding="utf-8"))
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) in ("DOCUMENTATION", "EXAMPLES")
    }


def test_documentation_matches_the_argument_spec():
    documented = yaml.safe_load(source_documentation()["DOCUMENTATION"])
    assert documented["extends_documentation_fragment"] == ["tencentcloud.cvm.connection"]
    options = dict(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"], **documented["options"])
    spec = watch.argument_spec()
    assert sorted(options) == sorted(spec)
    for name, option in options.items():
        assert (option["type"], option.get("elements"), option.get("choices"), option.get("default")) == (
            spec[name]["type"],
            spec[name].get("elements"),
            spec[name].get("choices"),
            spec[name].get("default"),
        ), name
    assert yaml.safe_load(source_documentation()["EXAMPLES"])[0]["sources"][0]["tencentcloud.cvm.cvm_instances"]


def test_schema_matches_the_argument_spec():
    schema = json.loads((SOURCE / "schemas" / "cvm_instances.json").read_text(encoding="utf-8"))
    types = {"str": "string", "path": "string", "int": "integer", "bool": "boolean", "list": "array", "dict": "object"}
    spec = watch.argument_spec()
    assert sorted(schema["properties"]) == sorted(spec)
    for name, prop in schema["properties"].items():
        assert (prop["type"], prop.get("enum"), prop.get("default"), prop.get("format") == "password") == (
            types[spec[name]["type"]],
            spec[name].get("choices"),
            spec[name].get("default"),
            bool(spec[name].get("no_log")),
        ), name


# -- API data is data: no event carries a template -------------------------------------------------------------------

TOUCH = "{{ lookup('ansible.builtin.pipe', 'touch marker') }}"


def test_events_carry_no_template_marker_and_say_which_fields_held_one():
    api = FleetApi(2)
    api.instances[0].update(
        {
            "InstanceName": TOUCH,
            "OsName": "{% if 1 %}x{% endif %}",
            "InstanceState": "RUNNING",
            "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "{#k#}", "Value": TOUCH}],
        }
    )
    api.instances[1]["InstanceName"] = "plain {name}"
    first, second = region_watch(api, start_with="all").poll()
    text = json.dumps([first, second])
    assert "{{" not in text and "{%" not in text and "{#" not in text
    payload = first["cvm_instance"]
    assert payload["instance_name"] == "{ { lookup('ansible.builtin.pipe', 'touch marker') }}"
    assert payload["tags"] == {"env": "prod", "{ #k#}": "{ { lookup('ansible.builtin.pipe', 'touch marker') }}"}
    assert payload["defused_fields"] == ["instance_name", "tags.{ #k#}", "tags.{ #k#}", "os_name"]
    assert second["cvm_instance"]["instance_name"] == "plain {name}" and second["cvm_instance"]["defused_fields"] == []


def test_an_error_event_carries_no_template_marker():
    api = FleetApi(1, fail=CvmApiError("DescribeInstances", "InternalError", "bad {{ lookup('pipe', 'id') }}", "req-1", attempts=1))
    (event,) = region_watch(api).poll()
    error = event["cvm_instances_error"]
    assert "{{" not in json.dumps(event) and error["defused_fields"] == ["message"]

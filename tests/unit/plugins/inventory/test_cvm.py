# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin over an in-memory API (narrow: tests/e2e/test_inventory.py runs ansible-inventory against the emulator)."""

from __future__ import annotations

import os

import pytest

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

from ansible_collections.tencentcloud.cvm.plugins.inventory import cvm
from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApiError
from ansible_collections.tencentcloud.cvm.tests.unit.plugins.in_memory_cvm import InMemoryCvm
# pylint: disable=protected-access  # a narrow unit test reaches the internals it is about


def raw_instance(number, region="ap-guangzhou", state="STOPPED", name=None, private=True, public=False, keys=(), tags=None):
    return {
        "InstanceId": "ins-u%07d" % number,
        "InstanceName": name or "host-%d" % number,
        "InstanceState": state,
        "Placement": {"Zone": region + "-3", "ProjectId": 0},
        "PrivateIpAddresses": ["10.1.0.%d" % number] if private else None,
        "PublicIpAddresses": ["203.0.113.%d" % number] if public else None,
        "OsName": "Debian 12.0 64bit",
        "InstanceType": "S5.MEDIUM4",
        "LoginSettings": {"KeyIds": list(keys) or None},
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {"env": "prod"}).items()],
        "VirtualPrivateCloud": {"VpcId": "vpc-u0000001", "SubnetId": "subnet-u0000001"},
    }


@pytest.fixture
def inventory_with(monkeypatch, tmp_path):
    """Run the plugin's parse() for a config text over instances; return (InventoryData, the fake APIs by region)."""

    def run(config, instances=(), fail=None, cache=True):
        apis = {}

        def make_api(_credential, region, **_kwargs):
            # An instance lives in ap-guangzhou unless its _region says otherwise.
            here = [{k: v for k, v in i.items() if k != "_region"} for i in instances if i.get("_region", "ap-guangzhou") == region]
            apis[region] = InMemoryCvm(here, region=region, fail_on={"*": fail} if fail else None)
            return apis[region]

        monkeypatch.setattr(cvm._client, "CvmApi", make_api)
        monkeypatch.setattr(cvm._credentials, "connect", lambda *args, **kwargs: object())
        path = tmp_path / "test.cvm.yml"
        path.write_text(config)
        plugin = inventory_loader.get("tencentcloud.cvm.cvm")
        inventory = InventoryData()
        loader = DataLoader()
        plugin.parse(inventory, loader, str(path), cache=cache)
        if plugin.get_option("cache"):
            plugin.update_cache_if_changed()  # what the inventory manager does after parse()
        return inventory, apis

    return run


def hostvars(inventory, name):
    return inventory.get_host(name).get_vars()


def test_host_vars_are_snake_case_and_complete():
    variables = cvm.host_vars(raw_instance(7, public=True, keys=("skey-b0000002", "skey-a0000001"), tags={"env": "dev", "role": "web"}), "ap-guangzhou")
    assert variables == {
        "instance_id": "ins-u0000007",
        "instance_name": "host-7",
        "instance_state": "STOPPED",
        "region": "ap-guangzhou",
        "zone": "ap-guangzhou-3",
        "private_ips": ["10.1.0.7"],
        "public_ips": ["203.0.113.7"],
        "os_name": "Debian 12.0 64bit",
        "instance_type": "S5.MEDIUM4",
        "key_ids": ["skey-a0000001", "skey-b0000002"],
        "cvm_tags": {"env": "dev", "role": "web"},
        "vpc_id": "vpc-u0000001",
        "subnet_id": "subnet-u0000001",
    }


def test_ansible_host_follows_the_address_preference():
    both = cvm.host_vars(raw_instance(1, public=True), "ap-guangzhou")
    assert cvm.ansible_host(["public_ip", "private_ip"], both) == "203.0.113.1"
    assert cvm.ansible_host(["instance_id"], both) == "10.1.0.1"
    public_only = cvm.host_vars(raw_instance(2, private=False, public=True), "ap-guangzhou")
    assert cvm.ansible_host(["private_ip"], public_only) == "203.0.113.2"
    assert cvm.ansible_host(["private_ip"], cvm.host_vars(raw_instance(3, private=False), "ap-guangzhou")) is None


@pytest.mark.parametrize(
    "hostnames, fragment",
    [
        ([], "hostnames is empty"),
        (["dns_name"], "hostnames has 'dns_name'"),
        ([["private_ip"]], "hostnames has ['private_ip']"),
    ],
)
def test_bad_hostnames(hostnames, fragment):
    with pytest.raises(AnsibleParserError, match=r"^" + __import__("re").escape(fragment)):
        cvm.check_hostnames(hostnames)


def test_unknown_states_are_named():
    with pytest.raises(AnsibleParserError, match="include_states has unknown states 'running'"):
        cvm.check_states(["RUNNING", "running"])


def test_parse_names_groups_and_composes(inventory_with):
    instances = [
        raw_instance(1, state="RUNNING", keys=("skey-a0000001",)),
        raw_instance(2, name="host-1"),
        raw_instance(3, private=False),
        dict(raw_instance(4, region="ap-shanghai", tags={"env": "dev"}), _region="ap-shanghai"),
        raw_instance(5, state="TERMINATING"),
    ]
    inventory, apis = inventory_with(
        """
plugin: tencentcloud.cvm.cvm
regions: [ap-guangzhou, ap-shanghai]
hostnames: [instance_name, private_ip]
keyed_groups:
  - {key: cvm_tags, prefix: tag}
  - {key: key_ids, prefix: key}
compose:
  login: "'admin_' ~ instance_name"
groups:
  composed_ok: login.startswith('admin_')
""",
        instances,
    )
    assert sorted(apis) == ["ap-guangzhou", "ap-shanghai"]
    # host-1 twice: the second instance falls back to its private IP; TERMINATING is left out by default.
    assert sorted(inventory.hosts) == ["10.1.0.2", "host-1", "host-3", "host-4"]
    assert hostvars(inventory, "10.1.0.2")["instance_id"] == "ins-u0000002"
    assert sorted(h.name for h in inventory.groups["tag_env_prod"].get_hosts()) == ["10.1.0.2", "host-1", "host-3"]
    assert [h.name for h in inventory.groups["key_skey_a0000001"].get_hosts()] == ["host-1"]
    assert [h.name for h in inventory.groups["ap_shanghai"].get_hosts()] == ["host-4"]
    assert [g.name for g in inventory.groups["ap_guangzhou"].child_groups] == ["ap_guangzhou_3"]
    assert hostvars(inventory, "host-1")["login"] == "admin_host-1"
    assert len(inventory.groups["composed_ok"].get_hosts()) == 4
    assert hostvars(inventory, "host-3")["ansible_host"] is None


def test_templates_in_hostnames_and_include_states(inventory_with):
    inventory, _apis = inventory_with(
        """
plugin: tencentcloud.cvm.cvm
regions: [ap-guangzhou]
hostnames: ["{{ instance_name }}.{{ region }}.internal"]
include_states: [RUNNING]
""",
        [raw_instance(1, state="RUNNING"), raw_instance(2)],
    )
    assert list(inventory.hosts) == ["host-1.ap-guangzhou.internal"]


def test_filters_go_to_the_api_in_every_region(inventory_with):
    _inventory, apis = inventory_with("""
plugin: tencentcloud.cvm.cvm
regions: [ap-guangzhou, ap-tokyo]
filters: {"tag:env": prod, zone: [ap-guangzhou-3, ap-tokyo-1]}
""")
    for api in apis.values():
        filters = [{"Name": "tag:env", "Values": ["prod"]}, {"Name": "zone", "Values": ["ap-guangzhou-3", "ap-tokyo-1"]}]
        assert api.calls == [("DescribeInstances", {"Filters": filters, "Offset": 0, "Limit": 100})]


@pytest.mark.parametrize(
    "config, fragment",
    [
        ("regions: [Guangzhou]", "region 'Guangzhou' is not a Tencent Cloud region name"),
        ("regions: [ap-guangzhou]\nfilters: {instance_state: x}", "filters has an unknown filter 'instance_state'. Did you mean 'instance-state'?"),
        ("regions: [ap-guangzhou]\nendpoint: ftp://x", "endpoint 'ftp://x': the scheme must be http:// or https://"),
        ("regions: [ap-guangzhou]\nrequest_timeout: 0", "request_timeout must be a whole number of seconds from 1 to 86400 (one day), got 0."),
        ("regions: [ap-guangzhou]\ninclude_states: [Running]", "include_states has unknown states 'Running'"),
        ("regions: [ap-guangzhou]\nfilter: {zone: x}", "Unknown options in the inventory file: 'filter' (did you mean 'filters'?)."),
    ],
)
def test_bad_configuration_fails_before_any_request(inventory_with, config, fragment):
    with pytest.raises(AnsibleParserError) as raised:
        inventory_with("plugin: tencentcloud.cvm.cvm\n" + config)
    assert fragment in str(raised.value)


def test_no_region_at_all(inventory_with, monkeypatch):
    monkeypatch.delenv("TENCENTCLOUD_REGION", raising=False)
    with pytest.raises(AnsibleParserError, match="regions is required"):
        inventory_with("plugin: tencentcloud.cvm.cvm\n")


@pytest.fixture
def built(monkeypatch):
    """The settings each client is made with (by the connection builder), over an empty in-memory fleet."""
    made = []

    def make_api(_credential, region, **kwargs):
        made.append(dict(kwargs, region=region))
        return InMemoryCvm([], region=region)

    monkeypatch.setattr(cvm._client, "CvmApi", make_api)
    monkeypatch.setattr(cvm._credentials, "connect", lambda *args, **kwargs: object())
    return made


def parse(tmp_path, config):
    path = tmp_path / "test.cvm.yml"
    path.write_text("plugin: tencentcloud.cvm.cvm\n" + config)
    inventory_loader.get("tencentcloud.cvm.cvm").parse(InventoryData(), DataLoader(), str(path), cache=False)


EMPTY_IN_AWX = (
    "TENCENTCLOUD_API_DEADLINE",
    "TENCENTCLOUD_ROLE_DURATION",
    "TENCENTCLOUD_CA_BUNDLE",
    "TENCENTCLOUD_RATE_LIMIT_CA_BUNDLE",
    "TENCENTCLOUD_ALLOW_INSECURE_HTTP",
    "TENCENTCLOUD_ENDPOINT",
    "TENCENTCLOUD_RATE_LIMIT_URL",
)


def test_empty_variables_mean_the_defaults_and_the_controller_environment_is_untouched(built, monkeypatch, tmp_path):
    """AWX injects an empty variable for each credential input left empty: "not set", read as such, never deleted from the
    environment of ansible-inventory (or of the playbook run it is part of)."""
    for name in EMPTY_IN_AWX:
        monkeypatch.setenv(name, "")
    before = dict(os.environ)
    parse(tmp_path, "regions: [ap-guangzhou]\n")
    assert dict(os.environ) == before
    assert [{k: v for k, v in settings.items() if k != "warn"} for settings in built] == [
        {
            "region": "ap-guangzhou",
            "endpoint": None,
            "request_timeout": 30,
            "api_deadline": 60,
            "ca_bundle": None,
            "allow_insecure_http": False,
            "rate_limit_url": None,
            "rate_limit_password": None,
            "rate_limit_ca_bundle": None,
        }
    ]


def test_variables_are_used_and_the_file_comes_first(built, monkeypatch, tmp_path):
    monkeypatch.setenv("TENCENTCLOUD_API_DEADLINE", "7")
    monkeypatch.setenv("TENCENTCLOUD_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("TENCENTCLOUD_ALLOW_INSECURE_HTTP", "true")
    parse(tmp_path, "regions: [ap-guangzhou]\nendpoint: http://127.0.0.1:10\n")
    assert (built[0]["api_deadline"], built[0]["endpoint"], built[0]["allow_insecure_http"]) == (7, "http://127.0.0.1:10", True)


@pytest.mark.parametrize("value", ["-Infinity", "1e999999999"])
def test_a_number_ansible_core_cannot_convert_safely_is_refused(built, monkeypatch, tmp_path, value):
    monkeypatch.setenv("TENCENTCLOUD_API_DEADLINE", value)
    with pytest.raises(AnsibleParserError) as raised:
        parse(tmp_path, "regions: [ap-guangzhou]\n")
    assert str(raised.value) == "api_deadline must be a whole number of seconds from 1 to 86400 (one day), got %r." % value
    assert built == []


def test_api_failures_use_the_modules_wording(inventory_with):
    error = CvmApiError("DescribeInstances", "AuthFailure.SecretIdNotFound", "The SecretId is not found.", "req-1")
    with pytest.raises(AnsibleError) as raised:
        inventory_with("plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\n", fail=error)
    assert str(raised.value).startswith(
        "Failed to read the instances of region ap-guangzhou: The SecretId is not found (AuthFailure.SecretIdNotFound). "
        "The secret_id is not known to Tencent Cloud"
    )
    assert str(raised.value).endswith("RequestId: req-1.")


def test_the_cache_holds_host_variables_only(inventory_with, tmp_path):
    cache_dir = tmp_path / "cache"
    config = (
        "plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nsecret_id: AKIDunit\nsecret_key: unit-secret-key-value\n"
        "cache: true\ncache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\n" % cache_dir
    )
    _inventory, apis = inventory_with(config, [raw_instance(1)], cache=False)
    assert len(apis["ap-guangzhou"].calls) == 1
    inventory, apis = inventory_with(config, [raw_instance(1)], cache=True)
    assert apis == {} and list(inventory.hosts) == ["ins-u0000001"]  # no client built, no request sent
    text = "".join(p.read_text() for p in cache_dir.iterdir())
    assert "ins-u0000001" in text and "unit-secret-key-value" not in text and "AKIDunit" not in text


# ---- API data is data: names, labels and addresses from the API ----------------------------------------------------

TOUCH = "{{ lookup('ansible.builtin.pipe', 'touch marker') }}"


class _Warnings:
    def __init__(self):
        self.messages = []

    def warning(self, msg, *_args, **_kwargs):
        self.messages.append(msg)


@pytest.fixture
def warnings(monkeypatch):
    """The plugin's warnings, as Display would print them."""
    seen = _Warnings()
    monkeypatch.setattr(inventory_loader.get("tencentcloud.cvm.cvm").display, "warning", seen.warning)
    monkeypatch.setattr(cvm.InventoryModule, "display", seen, raising=False)
    return seen


def test_a_name_holding_a_template_marker_is_never_a_host_name(inventory_with, warnings):
    instances = [
        raw_instance(1, name=TOUCH),
        raw_instance(2, name="{% if x %}{% endif %}"),
        raw_instance(3, name="a{#b#}"),
        raw_instance(4, name="-oProxyCommand=x"),
        raw_instance(5, name="web-5"),
    ]
    inventory, _apis = inventory_with("plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nhostnames: [instance_name, private_ip]\n", instances)
    assert sorted(inventory.hosts) == ["ins-u0000001", "ins-u0000002", "ins-u0000003", "ins-u0000004", "web-5"]
    assert hostvars(inventory, "ins-u0000001")["instance_name"] == TOUCH  # the variable keeps the text, as data
    # One warning for the whole parse, naming each instance.
    (message,) = [m for m in warnings.messages if "cannot be host names" in m]
    for number in (1, 2, 3, 4):
        assert "ins-u000000%d" % number in message
    assert "starts with '-'" in message


def test_a_template_in_hostnames_that_renders_a_marker_falls_back_to_the_id(inventory_with, warnings):
    inventory, _apis = inventory_with(
        "plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nhostnames: ['{{ instance_name }}.internal']\n",
        [raw_instance(1, name=TOUCH), raw_instance(2, name="web-2")],
    )
    assert sorted(inventory.hosts) == ["ins-u0000001", "web-2.internal"]
    assert len([m for m in warnings.messages if "cannot be host names" in m]) == 1


@pytest.mark.usefixtures("warnings")
def test_control_characters_in_host_names_are_escaped(inventory_with):
    inventory, _apis = inventory_with(
        "plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nhostnames: [instance_name]\n", [raw_instance(1, name="web\x1b[2J\r\nroot\x9b\x7f")]
    )
    assert list(inventory.hosts) == ["web\\x1b[2J\\x0d\\x0aroot\\x9b\\x7f"]
    assert hostvars(inventory, "web\\x1b[2J\\x0d\\x0aroot\\x9b\\x7f")["instance_name"] == "web\x1b[2J\r\nroot\x9b\x7f"


@pytest.mark.parametrize("address", ["-oProxyCommand=touch x_%h", "10.0.0.1 -oProxyCommand=x", "10.0.0.1\n", "host.example.com", "", "10.0.0.300"])
@pytest.mark.parametrize("kind", ["PrivateIpAddresses", "PublicIpAddresses"])
def test_an_address_that_is_not_an_ip_leaves_the_instance_out(inventory_with, warnings, address, kind):
    bad = dict(raw_instance(1, public=True), **{kind: [address]})
    inventory, _apis = inventory_with(
        "plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nhostnames: [private_ip, public_ip, instance_id]\n", [bad, raw_instance(2, public=True)]
    )
    assert sorted(inventory.hosts) == ["10.1.0.2"]
    (message,) = [m for m in warnings.messages if "left out of the inventory" in m]
    assert "ins-u0000001" in message and "\n" not in message


def test_ip_addresses_of_both_families_are_addresses(inventory_with, warnings):
    v6 = dict(raw_instance(1), PrivateIpAddresses=["fd00::1"])
    inventory, _apis = inventory_with("plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\nhostnames: [private_ip]\n", [v6, raw_instance(2)])
    assert sorted(inventory.hosts) == ["10.1.0.2", "fd00::1"]
    assert hostvars(inventory, "fd00::1")["ansible_host"] == "fd00::1"
    assert warnings.messages == []


@pytest.mark.parametrize(
    "composed, kept", [("instance_name ~ '.example.com'", True), ("'-oProxyCommand=x'", False), ("'10.0.0.1 -oX'", False), ("private_ips[0]", True)]
)
def test_a_composed_ansible_host_must_be_an_address_or_a_dns_name(inventory_with, warnings, composed, kept):
    config = 'plugin: tencentcloud.cvm.cvm\nregions: [ap-guangzhou]\ncompose:\n  ansible_host: "%s"\n' % composed
    inventory, _apis = inventory_with(config, [raw_instance(1)])
    assert ("ins-u0000001" in inventory.hosts) is kept
    assert any("left out of the inventory" in m for m in warnings.messages) is not kept

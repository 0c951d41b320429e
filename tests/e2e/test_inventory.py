# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin tencentcloud.cvm.cvm, run by the real ansible-inventory over the real SDK against the emulator."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap

import pytest
import yaml

from ansible_env import BIN  # pylint: disable=import-error
from e2e_support import GAVE_UP, binding_writes  # pylint: disable=import-error
from fleet import fleet_state  # pylint: disable=import-error
from harness import EmulatorProcess  # pylint: disable=import-error
from shared_constants import REPO  # pylint: disable=import-error

SEED_HOSTS = ["10.0.3.11", "10.0.4.12", "10.0.3.13", "10.0.6.14", "10.0.6.15", "10.0.4.16"]


@pytest.fixture
def inventory(ansible_env, tmp_path):
    """Write a *.cvm.yml and run ansible-inventory on it; return (rc, stdout, stderr)."""
    def run(emu, config, *args, env=None, name="test.cvm.yml"):
        path = tmp_path / name
        path.write_text("plugin: tencentcloud.cvm.cvm\n" + textwrap.dedent(config))
        run_env = ansible_env(emu, dict({"ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}, **(env or {})))
        proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(path)] + list(args or ["--list"]),
                              env=run_env, capture_output=True, text=True, timeout=300, check=False)
        return proc.returncode, proc.stdout, proc.stderr
    return run


def plain(value):
    """ansible-core 2.19 marks strings that must never be templated (all data from an API) as {"__ansible_unsafe": text}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def listing(result):
    rc, stdout, stderr = result
    assert rc == 0, stderr
    return plain(json.loads(stdout))


def members(data, group):
    return sorted(data.get(group, {}).get("hosts", []))


def describe_count(emu):
    return emu.requests()["counts"].get("DescribeInstances", 0)


def test_list_names_groups_keyed_groups_and_compose(emulator, inventory):
    data = listing(inventory(emulator, """
        hostnames: [private_ip, instance_id]
        keyed_groups:
          - {key: cvm_tags, prefix: tag}
          - {key: key_ids, prefix: key}
        groups:
          windows: "'Windows' in os_name"
        compose:
          ansible_user: "'Administrator' if 'Windows' in os_name else 'root'"
          short_zone: zone[-1:]
    """))
    hostvars = data["_meta"]["hostvars"]
    assert sorted(hostvars) == sorted(SEED_HOSTS)
    web1 = hostvars["10.0.3.11"]
    assert {k: web1[k] for k in ("instance_id", "instance_name", "instance_state", "region", "zone", "private_ips", "public_ips",
                                 "os_name", "instance_type", "key_ids", "cvm_tags", "vpc_id", "subnet_id", "ansible_host",
                                 "ansible_user", "short_zone")} == {
        "instance_id": "ins-a1000001", "instance_name": "web-1", "instance_state": "RUNNING", "region": "ap-guangzhou",
        "zone": "ap-guangzhou-3", "private_ips": ["10.0.3.11"], "public_ips": ["203.0.113.11"], "os_name": "TencentOS Server 3.1 (TK4)",
        "instance_type": "S5.MEDIUM4", "key_ids": ["skey-k1000001"], "cvm_tags": {"env": "prod", "role": "web"}, "vpc_id": "vpc-a1b2c3d4",
        "subnet_id": "subnet-g3000001", "ansible_host": "10.0.3.11", "ansible_user": "root", "short_zone": "3"}
    assert hostvars["10.0.4.16"]["ansible_user"] == "Administrator"
    assert members(data, "tag_env_prod") == ["10.0.3.11", "10.0.3.13", "10.0.4.12"]
    assert members(data, "tag_role_db") == ["10.0.3.13"]
    assert members(data, "key_skey_k1000001") == ["10.0.3.11", "10.0.3.13"]
    assert members(data, "key_skey_k1000002") == ["10.0.6.15"]
    assert members(data, "windows") == ["10.0.4.16"]
    assert sorted(data["ap_guangzhou"]["children"]) == ["ap_guangzhou_3", "ap_guangzhou_4", "ap_guangzhou_6"]
    assert members(data, "ap_guangzhou_6") == ["10.0.6.14", "10.0.6.15"]
    assert describe_count(emulator) == 1


def test_graph_and_hostname_preferences(emulator, inventory):
    rc, stdout, stderr = inventory(emulator, """
        hostnames: [public_ip, "{{ instance_name }}.internal"]
        keyed_groups: [{key: cvm_tags.env, prefix: env}]
    """, "--graph")
    assert rc == 0, stderr
    lines = [line.strip(" |-") for line in stdout.splitlines()]
    assert "@env_prod:" in lines and "@ap_guangzhou_4:" in lines
    # Public IPs where there is one, else the template; ansible_host follows the public_ip preference.
    assert {"203.0.113.11", "203.0.113.12", "db-1.internal", "batch-1.internal", "batch-2.internal", "win-1.internal"} <= set(lines)
    data = listing(inventory(emulator, 'hostnames: [public_ip, instance_name]\n'))
    assert data["_meta"]["hostvars"]["203.0.113.12"]["ansible_host"] == "203.0.113.12"
    assert data["_meta"]["hostvars"]["db-1"]["ansible_host"] == "10.0.3.13"


@pytest.fixture
def fleet():
    document = fleet_state(12, regions=("ap-guangzhou", "ap-shanghai", "eu-frankfurt"), running=3)
    document["instances"][3]["InstanceState"] = "TERMINATING"
    with EmulatorProcess(state=document) as emu:
        yield emu


def test_regions_are_all_read_and_filters_apply_in_each(fleet, inventory):
    # fleet_state: instance i is in region i % 3, env=prod when i is even, RUNNING for i < 3; fleet-4 was made TERMINATING.
    data = listing(inventory(fleet, """
        regions: [ap-guangzhou, ap-shanghai, eu-frankfurt]
        hostnames: [instance_name]
    """))
    hostvars = data["_meta"]["hostvars"]
    assert sorted(hostvars) == sorted("fleet-%d" % n for n in range(1, 13) if n != 4)
    assert members(data, "eu_frankfurt_3") == ["fleet-12", "fleet-3"]
    assert sorted(data["ap_shanghai"]["children"]) == ["ap_shanghai_3", "ap_shanghai_4", "ap_shanghai_6"]
    assert [hostvars["fleet-%d" % n]["region"] for n in (1, 2, 3)] == ["ap-guangzhou", "ap-shanghai", "eu-frankfurt"]
    assert {r["region"] for r in fleet.requests()["requests"] if r["action"] == "DescribeInstances"} == {
        "ap-guangzhou", "ap-shanghai", "eu-frankfurt"}

    data = listing(inventory(fleet, """
        regions: [ap-guangzhou, ap-shanghai]
        hostnames: [instance_name]
        filters: {"tag:env": prod, instance-state: [RUNNING, STOPPED]}
        include_states: [RUNNING]
    """))
    assert sorted(data["_meta"]["hostvars"]) == ["fleet-1"]
    sent = [r["params"] for r in fleet.requests()["requests"] if r["action"] == "DescribeInstances"][-2:]
    assert all({"Name": "tag:env", "Values": ["prod"]} in params["Filters"] for params in sent)


def test_the_cache_answers_the_second_run_and_holds_no_secret(emulator, inventory, tmp_path):
    config = """
        cache: true
        cache_plugin: ansible.builtin.jsonfile
        cache_connection: %s
        cache_timeout: 600
        keyed_groups: [{key: cvm_tags, prefix: tag}]
    """ % (tmp_path / "cache")
    first = listing(inventory(emulator, config))
    assert describe_count(emulator) == 1
    second = listing(inventory(emulator, config))
    assert describe_count(emulator) == 1 and second == first
    listing(inventory(emulator, config, "--list", "--flush-cache"))
    assert describe_count(emulator) == 2
    cached = "".join(path.read_text() for path in (tmp_path / "cache").iterdir())
    assert "ins-a1000001" in cached and emulator.secret_key not in cached and emulator.secret_id not in cached


@pytest.mark.parametrize("config, message", [
    ("regions: [guangzhou]\n", "region 'guangzhou' is not a Tencent Cloud region name: use a name like ap-guangzhou"),
    ("regions: [ap-guangzhou]\nfilters: {zone: [a, b, c, d, e, f]}\n", "filters['zone'] has 6 values: the API allows at most 5 per filter."),
    ("regions: [ap-guangzhou]\nfilters: {instance_state: RUNNING}\n", "filters has an unknown filter 'instance_state'. Did you mean 'instance-state'?"),
    ("regions: [ap-guangzhou]\nhostnames: [dns_name]\n", "hostnames has 'dns_name': each entry is one of private_ip, public_ip, instance_id, instance_name"),
    ("regions: [ap-guangzhou]\ninclude_states: [running]\n", "include_states has unknown states 'running'"),
    ("regions: [ap-guangzhou]\nendpoint: 'http://127.0.0.1:1/path'\n", "give only scheme://host[:port], without path"),
    ("regions: [ap-guangzhou]\nhostname: [instance_name]\n", "Unknown options in the inventory file: 'hostname' (did you mean 'hostnames'?)."),
])
def test_bad_configuration_is_a_clear_error_and_sends_nothing(emulator, inventory, config, message):
    rc, _stdout, stderr = inventory(emulator, config)
    assert rc != 0 and message in " ".join(stderr.split()), stderr
    assert describe_count(emulator) == 0


def test_api_failures_read_like_the_modules(emulator, inventory):
    rc, _stdout, stderr = inventory(emulator, "regions: [ap-guangzhou, ap-tokyo]\n", env={"TENCENTCLOUD_SECRET_KEY": "wrong-key-000"})
    text = " ".join(stderr.split())
    assert rc != 0 and re.search(r"Failed to read the instances of region ap-(guangzhou|tokyo): ", text), text
    assert "(AuthFailure.SignatureFailure)" in text and "wrong-key-000" not in text

    emulator.reset()
    with EmulatorProcess(extra_args=["--region", "ap-guangzhou"]) as only_guangzhou:
        rc, _stdout, stderr = inventory(only_guangzhou, "regions: [ap-guangzhou, ap-tokyo]\n")
        text = " ".join(stderr.split())
        assert rc != 0 and "Failed to read the instances of region ap-tokyo:" in text and "(UnsupportedRegion)" in text
        assert "CVM is not available in region 'ap-tokyo'" in text


def test_a_misspelt_region_hint_names_the_option_that_gave_it(emulator, inventory):
    rc, _stdout, stderr = inventory(emulator, "regions: [ap-guangzho]\n")
    text = " ".join(stderr.split())
    assert rc != 0 and "region 'ap-guangzho'" in text and "check regions in the inventory source, e.g. ap-guangzhou." in text, text
    assert "TENCENTCLOUD_REGION" not in text
    # Without regions, the region came from region / TENCENTCLOUD_REGION, and the hint says so.
    rc, _stdout, stderr = inventory(emulator, "filters: {}\n", env={"TENCENTCLOUD_REGION": "ap-guangzho"})
    text = " ".join(stderr.split())
    assert rc != 0 and "check region (TENCENTCLOUD_REGION), e.g. ap-guangzhou." in text, text


def test_secrets_never_in_output_at_any_verbosity(emulator, inventory):
    rc, stdout, stderr = inventory(emulator, "regions: [ap-guangzhou]\n", "--list", "-vvvv")
    assert rc == 0, stderr
    assert emulator.secret_key not in stdout + stderr


def test_the_awx_credentials_environment_works_with_empty_fields(emulator, inventory):
    # The credential type (docs/awx/credential_type.yml) injects every variable, empty when its field is.
    rc, stdout, stderr = inventory(emulator, "regions: [ap-guangzhou]\n", "--graph",
                                   env={"TENCENTCLOUD_CA_BUNDLE": "", "TENCENTCLOUD_SECURITY_TOKEN": "",
                                        "TENCENTCLOUD_API_DEADLINE": ""})
    assert rc == 0 and "ins-a1000006" in stdout, stderr


@pytest.mark.nondeterministic
def test_api_deadline_from_the_environment_bounds_a_hung_endpoint(emulator, inventory, hung):
    rc, _stdout, stderr = inventory(emulator, "regions: [ap-guangzhou]\nendpoint: http://127.0.0.1:%d\nrequest_timeout: 2\n" % hung.port,
                                    env={"TENCENTCLOUD_API_DEADLINE": "1"})
    text = " ".join(stderr.split())
    found = GAVE_UP.search(text)
    assert rc != 0 and found, text
    # The deadline from the environment, not the attempt cap, ended the retries: an attempt can end late on a loaded
    # machine but never early, so after the first one (at most 1 s of waiting) no second fits in 1 s. The seconds in the
    # message are wall time, which load stretches, so they are not asserted (a bound of 5 s on them failed 4 times in 20
    # in the flake hunt, under a load of 20 on two cores).
    assert "api_deadline=1s leaves no time for another" in text and "(ClientNetworkError.Timeout)" in text, text
    assert found.group(1) == "1" and hung.accepted, text


# What a user sees: deprecation warnings too (the fixture's environment turns them off for other tests).
SHOW_WARNINGS = {"ANSIBLE_DEPRECATION_WARNINGS": "1"}


def assert_no_warning(proc):
    """No [WARNING] or [DEPRECATION WARNING] (a variable with a reserved name such as tags would give one on every run)."""
    text = proc.stdout + proc.stderr
    assert "WARNING" not in text, text[-3000:]


def run_example(ansible_env, emu, playbook, inventory, extra_vars=None):
    cmd = [str(BIN / "ansible-playbook"), "-i", str(REPO / inventory), str(REPO / playbook)]
    cmd += ["-e", json.dumps(extra_vars)] if extra_vars else []
    proc = subprocess.run(cmd, env=ansible_env(emu, SHOW_WARNINGS), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert_no_warning(proc)
    return proc


@pytest.mark.parametrize("source", ["examples/fleet.cvm.yml", "docs/awx/inventory.cvm.yml"])
def test_listing_the_inventory_examples_prints_no_warning(emulator, ansible_env, source):
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(REPO / source), "--list"], env=ansible_env(emulator, SHOW_WARNINGS),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert_no_warning(proc)
    data = plain(json.loads(proc.stdout))
    # The tags are there, under their own name, and group the hosts as before.
    (web1,) = [name for name, hostvars in data["_meta"]["hostvars"].items() if hostvars["instance_id"] == "ins-a1000001"]
    assert data["_meta"]["hostvars"][web1]["cvm_tags"] == {"env": "prod", "role": "web"}
    assert "tags" not in data["_meta"]["hostvars"][web1]
    assert web1 in members(data, "tag_env_prod") and web1 in members(data, "tag_role_web")


TEMPLATE_NAME = "{{ lookup('pipe', 'id') }}"


def test_a_template_looking_instance_name_is_never_templated(emulator, inventory, playbook, tmp_path):
    marker = tmp_path / "templated"
    touching = "{{ lookup('pipe', 'touch %s') }}" % marker
    state = emulator.state()
    for instance in state["instances"]:
        instance["InstanceName"] = {"ins-a1000001": TEMPLATE_NAME, "ins-a1000002": touching}.get(instance["InstanceId"], instance["InstanceName"])
    emulator.load_state(state)
    # A hostnames template over the name would give a host name holding a template: those hosts keep their instance IDs.
    hostvars = listing(inventory(emulator, 'hostnames: ["{{ instance_name }}.internal"]\n'))["_meta"]["hostvars"]
    assert hostvars["ins-a1000001"]["instance_name"] == TEMPLATE_NAME
    assert hostvars["ins-a1000002"]["instance_name"] == touching
    assert "batch-1.internal" in hostvars
    config = """
        hostnames: [instance_id]
        compose:
          label: instance_name ~ '!'
    """
    data = listing(inventory(emulator, config))
    assert data["_meta"]["hostvars"]["ins-a1000001"]["label"] == TEMPLATE_NAME + "!"
    # The plain views the plugin documents: one host's variables (JSON) and YAML output.
    rc, stdout, stderr = inventory(emulator, config, "--host", "ins-a1000001")
    assert rc == 0 and json.loads(stdout)["instance_name"] == TEMPLATE_NAME, stderr
    rc, stdout, stderr = inventory(emulator, config, "--list", "--yaml")
    assert rc == 0, stderr
    assert "__ansible_unsafe" not in stdout, stdout
    assert yaml.safe_load(stdout)["all"]["children"]["ap_guangzhou"]["children"]["ap_guangzhou_3"]["hosts"]["ins-a1000001"]["instance_name"] == TEMPLATE_NAME
    # A play on those hosts sees the text, not the output of `id`.
    path = tmp_path / "test.cvm.yml"
    rc, _tasks, stdout, stderr = playbook(emulator, """
        - hosts: all
          gather_facts: false
          connection: local
          tasks:
            - ansible.builtin.debug:
                msg: "name=[{{ instance_name }}] label=[{{ label }}]"
    """, inventory=str(path))
    assert rc == 0, stdout + stderr
    assert "name=[%s] label=[%s!]" % (TEMPLATE_NAME, TEMPLATE_NAME) in stdout
    assert "uid=" not in stdout + stderr and not marker.exists()


def test_the_fleet_example_binds_in_one_call_per_play(emulator, ansible_env):
    run_example(ansible_env, emulator, "examples/bind_keys_fleet.yml", "examples/fleet.cvm.yml")
    prod = ["ins-a1000001", "ins-a1000002", "ins-a1000003"]
    for instance_id in prod:
        assert {"skey-k1000003", "skey-k1000004"} <= set(emulator.key_ids(instance_id)), instance_id
    assert emulator.key_ids("ins-a1000004") == []
    # One write per play: the first binds alice to the three, the second (one region) bob to the three.
    assert [len(w["params"]["InstanceIds"]) for w in binding_writes(emulator)] == [3, 3]


def test_the_awx_group_example_binds_the_group_only(emulator, ansible_env):
    run_example(ansible_env, emulator, "examples/awx_bind_keys_group.yml", "docs/awx/inventory.cvm.yml",
                {"cvm_group": "ap_guangzhou_6", "cvm_key_ids": "skey-k1000003, skey-k1000004"})
    # The zone group ap_guangzhou_6 holds batch-1 and batch-2. The source reads two regions; the seed has only ap-guangzhou.
    assert [w["params"]["InstanceIds"] for w in binding_writes(emulator)] == [["ins-a1000004", "ins-a1000005"]]
    assert emulator.key_ids("ins-a1000004") == ["skey-k1000003", "skey-k1000004"]
    assert emulator.key_ids("ins-a1000001") == ["skey-k1000001"]


def hostile_fleet(emu, marker):
    """The seed with names, tags and addresses anyone allowed to edit an instance could set; `marker`_<where> is what they touch."""
    touch = "{{ lookup('ansible.builtin.pipe', 'touch %s_%%s') }}" % marker
    state = emu.state()
    for instance in state["instances"]:
        hostile = {
            "ins-a1000001": {"InstanceName": touch % "name", "OsName": touch % "os",
                             "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "role", "Value": touch % "tag"}]},
            "ins-a1000002": {"InstanceName": "web\x1b[2J\x1b[31mevil\r\nname\x9b"},
            "ins-a1000003": {"InstanceName": "addr-probe", "PrivateIpAddresses": ["-oProxyCommand=touch %s_ssh_%%h" % marker]},
            "ins-a1000004": {"InstanceName": "{%% if lookup('ansible.builtin.pipe', 'touch %s_stmt') %%}{%% endif %%}" % marker},
        }.get(instance["InstanceId"], {})
        instance.update(hostile)
    emu.load_state(state)


def markers(tmp_path):
    return sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("marker"))


CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_hostile_names_tags_and_addresses_never_run_and_never_reach_the_terminal(emulator, ansible_env, tmp_path):
    """ansible-playbook and ansible over the inventory: no marker file, labels without raw control characters, one warning each."""
    hostile_fleet(emulator, tmp_path / "marker")
    path = tmp_path / "hostile.cvm.yml"
    path.write_text("plugin: tencentcloud.cvm.cvm\nhostnames: [instance_name, instance_id]\nkeyed_groups:\n  - {key: cvm_tags, prefix: tag}\n")
    play = tmp_path / "print.yml"
    play.write_text(textwrap.dedent("""
        - hosts: all:!addr-probe
          gather_facts: false
          connection: local
          tasks:
            - ansible.builtin.debug:
                msg: "host={{ inventory_hostname }} name={{ instance_name }} tags={{ cvm_tags }} os={{ os_name }} groups={{ group_names }}"
    """))
    env = ansible_env(emulator, SHOW_WARNINGS)
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(path), str(play)], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert markers(tmp_path) == []
    # Host labels: the escaped name, never the raw escape sequence or a line break inside a label.
    assert "ok: [web\\x1b[2J\\x1b[31mevil\\x0d\\x0aname\\x9b]" in proc.stdout
    assert "ok: [ins-a1000001]" in proc.stdout and "ok: [ins-a1000004]" in proc.stdout
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.startswith(("ok: [", "[WARNING]")):
            assert not CONTROL.search(line), line
    warnings = " ".join(proc.stderr.split())
    assert warnings.count("cannot be host names") == 1 and "ins-a1000001" in warnings and "ins-a1000004" in warnings, warnings
    assert warnings.count("left out of the inventory") == 1 and "ins-a1000003" in warnings, warnings
    # The address is never handed to ssh: the instance is not a host (before, ssh ran its ProxyCommand on the controller).
    proc = subprocess.run([str(BIN / "ansible"), "-i", str(path), "addr-probe", "-m", "ansible.builtin.raw", "-a", "uptime",
                           "-c", "ssh"],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert markers(tmp_path) == [], proc.stdout + proc.stderr

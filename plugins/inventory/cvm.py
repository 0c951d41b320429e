# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: cvm
short_description: Tencent Cloud CVM instances as an Ansible inventory
version_added: 0.2.0
description:
  - Reads the CVM instances of one or more regions (C(DescribeInstances), every page, the regions concurrently) and makes each a
    host, with snake_case host variables, default groups per region and per zone, and the groups and variables of
    O(compose), O(groups) and O(keyed_groups).
  - Uses the collection's API client, so reads are rate limited, retried on throttling and transient errors, and fail with the
    same messages as the modules.
  - The configuration file must be named C(*.cvm.yml) or C(*.cvm.yaml) and start with C(plugin) set to V(tencentcloud.cvm.cvm).
  - 'Host variables: C(instance_id), C(instance_name), C(instance_state), C(region), C(zone), C(private_ips), C(public_ips),
    C(os_name), C(instance_type), C(key_ids), C(cvm_tags) (the instance tags, a dictionary of tag key to value), C(vpc_id), C(subnet_id), and C(ansible_host).'
  - 'Default groups: one per region, like C(ap_guangzhou), with one child group per zone, like C(ap_guangzhou_3).'
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
extends_documentation_fragment:
  - tencentcloud.cvm.connection
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; it makes the file a source for this plugin.
    required: true
    choices: [tencentcloud.cvm.cvm]
    type: str
  regions:
    description:
      - The regions to read, like V(ap-guangzhou). They are read concurrently.
      - When not set, the one region of O(region) (or E(TENCENTCLOUD_REGION)).
    type: list
    elements: str
  filters:
    description:
      - Read only the instances these API filters select, as in the O(tencentcloud.cvm.cvm_keypair_association#module:instance_filters)
        option of the modules, a mapping of filter name to a value or a list of at most 5 values.
      - Values of one filter are alternatives; all filters must match. At most 10 filters. Applied in every region.
      - Filter names include V(instance-name), V(instance-state), V(zone), V(project-id), V(instance-id), V(vpc-id),
        V(subnet-id), V(private-ip-address), V(public-ip-address), V(tag-key), V(tag-value) and V(tag:<key>) (the value of one tag).
    type: dict
    default: {}
  hostnames:
    description:
      - How to name each host, in order of preference. The first entry that gives a name not taken by another instance is used;
        when none does, the instance ID.
      - Each entry is one of V(private_ip), V(public_ip), V(instance_id), V(instance_name), or a Jinja2 template over the host
        variables, like V({{ instance_name }}.{{ region }}).
      - A name that holds C({{), C({%) or C({#), or starts with C(-), is never used; that instance is named by its instance ID
        (see the notes). A V(private_ip) or V(public_ip) entry gives only an IP address.
      - C(ansible_host) is the address of the first V(private_ip) or V(public_ip) entry that the instance has; when no entry is an
        address, its first private IP, else its first public IP. O(compose) can set C(ansible_host) otherwise.
    type: list
    elements: str
    default: [instance_id]
  include_states:
    description:
      - The instance states to include. By default every state except V(SHUTDOWN) and V(TERMINATING) (instances being
        destroyed).
    type: list
    elements: str
    default: [PENDING, LAUNCH_FAILED, RUNNING, STOPPED, STARTING, STOPPING, REBOOTING, ENTER_RESCUE_MODE, RESCUE_MODE,
              EXIT_RESCUE_MODE, ENTER_SERVICE_LIVE_MIGRATE, SERVICE_LIVE_MIGRATE, EXIT_SERVICE_LIVE_MIGRATE]
notes:
  - >-
    Every host variable comes from the API and is untrusted: the plugin marks each value unsafe, so Ansible never renders it as
    a template on any supported ansible-core (2.16 and later), in host variables, C(compose), O(groups), O(keyed_groups) and
    plays: an instance named like the template C({{ lookup ... }}) stays that text in C(instance_name). ansible-core 2.19 and later show such
    values in C(ansible-inventory --list) JSON output as C({"__ansible_unsafe": "10.0.3.11"}), also with C(--export).
    For plain values, use YAML output (C(ansible-inventory --list -y) or C(--yaml)) or one host's variables
    (C(ansible-inventory --host NAME), JSON); in plays and templates the values are plain strings already.
  - >-
    A host name is never a template: ansible-core before 2.19 would render a host name holding C({{), C({%) or C({#) wherever a
    play reads C(inventory_hostname). An instance whose name (or whose O(hostnames) template result) holds one, or starts with
    C(-) (an option to ssh), is named by its instance ID instead, with one warning per inventory parse naming those instances.
    Control characters in a host name (escape sequences, carriage returns, line feeds) are written as escapes like C(\x1b), so
    a host label never drives the terminal; the host variables keep the API's text.
  - >-
    C(ansible_host) is always an IP address: an instance whose private or public addresses from the API are not all IPv4 or
    IPv6 addresses (such as C(-oProxyCommand=...), which ssh would take as an option) is left out of the inventory, with a
    warning naming it. A C(ansible_host) set by O(compose) must be an IP address or a DNS name, else the host is left out too.
  - The cache (O(cache)) holds only the instances' host variables; credentials are never cached, nor shown in output.
  - Reads in several regions each count against that region's rate limit.
  - >-
    The instance's tags are in C(cvm_tags), not C(tags): C(tags) is a play keyword, a name reserved for Ansible, and
    ansible-core warns on every run that defines a variable of that name. Group by tag with a keyed group of key
    C(cvm_tags) and prefix C(tag) (groups like C(tag_env_prod)); read one tag with C(cvm_tags.env) or C(cvm_tags['env']).
"""

EXAMPLES = r"""
# prod.cvm.yml: every instance of two regions, named by private IP, grouped by tags and key pairs.
plugin: tencentcloud.cvm.cvm
regions: [ap-guangzhou, ap-shanghai]
hostnames: [private_ip, instance_id]
keyed_groups:
  # tag_env_prod, tag_role_web, ...: one group per tag key and value
  - key: cvm_tags
    prefix: tag
  # key_skey_4e5ty7i8, ...: one group per bound key pair
  - key: key_ids
    prefix: key
  # type_S5_MEDIUM4, ...
  - key: instance_type
    prefix: type
groups:
  running: instance_state == 'RUNNING'
compose:
  ansible_user: "'ubuntu' if 'Ubuntu' in os_name else 'root'"

# ---- another file ----
# Only the production web servers, cached for an hour, named by instance name.
# plugin: tencentcloud.cvm.cvm
# regions: [ap-guangzhou]
# filters:
#   tag:env: prod
#   tag:role: web
# hostnames:
#   - "{{ instance_name }}.example.internal"
#   - instance_id
# include_states: [RUNNING, STOPPED]
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/ansible-cvm-inventory
# cache_timeout: 3600

# ---- another file ----
# Against the collection's local CVM emulator: its URL and credentials come from the environment
# (TENCENTCLOUD_ENDPOINT=http://127.0.0.1:PORT, TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY; see docs/emulator.md).
# plugin: tencentcloud.cvm.cvm
# regions: [ap-guangzhou]
# strict: true
"""

import ipaddress
import re
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _credentials
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _errors
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _lookup
from ansible_collections.tencentcloud.cvm.plugins.module_utils._text import has_template_marker, printable

HOSTNAME_KINDS = ("private_ip", "public_ip", "instance_id", "instance_name")
ADDRESS_KINDS = ("private_ip", "public_ip")
INSTANCE_STATES = (
    "PENDING",
    "LAUNCH_FAILED",
    "RUNNING",
    "STOPPED",
    "STARTING",
    "STOPPING",
    "REBOOTING",
    "SHUTDOWN",
    "TERMINATING",
    "ENTER_RESCUE_MODE",
    "RESCUE_MODE",
    "EXIT_RESCUE_MODE",
    "ENTER_SERVICE_LIVE_MIGRATE",
    "SERVICE_LIVE_MIGRATE",
    "EXIT_SERVICE_LIVE_MIGRATE",
)
MAX_REGION_WORKERS = 8
_GROUP_UNSAFE_RE = re.compile(r"[^A-Za-z0-9_]")
# What a composed ansible_host may be besides an IP address: a DNS name (letters, digits, '-', '_' and dots, never starting with '-').
_DNS_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}\Z")


def host_vars(raw, region):
    """The snake_case host variables of one DescribeInstances entry (never anything secret)."""
    vpc = raw.get("VirtualPrivateCloud") or {}
    login = raw.get("LoginSettings") or {}
    return {
        "instance_id": raw["InstanceId"],
        "instance_name": raw.get("InstanceName") or "",
        "instance_state": raw.get("InstanceState") or "",
        "region": region,
        "zone": (raw.get("Placement") or {}).get("Zone") or "",
        "private_ips": list(raw.get("PrivateIpAddresses") or ()),
        "public_ips": list(raw.get("PublicIpAddresses") or ()),
        "os_name": raw.get("OsName") or "",
        "instance_type": raw.get("InstanceType") or "",
        "key_ids": sorted(login.get("KeyIds") or ()),
        "cvm_tags": {tag.get("Key"): tag.get("Value") for tag in raw.get("Tags") or ()},
        "vpc_id": vpc.get("VpcId") or "",
        "subnet_id": vpc.get("SubnetId") or "",
    }


def group_name(text):
    """Region and zone names as valid group names: ap-guangzhou-3 -> ap_guangzhou_3."""
    return _GROUP_UNSAFE_RE.sub("_", text)


def _kind_value(kind, variables):
    if kind == "private_ip":
        return (variables["private_ips"] or [None])[0]
    if kind == "public_ip":
        return (variables["public_ips"] or [None])[0]
    return variables[kind] or None


def is_ip(text):
    """Whether `text` is an IPv4 or IPv6 address (a string only: '-oProxyCommand=...' from the API is not)."""
    if not isinstance(text, str):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def bad_addresses(variables):
    """The addresses of an instance that are not IP addresses (the API's data, so anything)."""
    return [address for address in variables["private_ips"] + variables["public_ips"] if not is_ip(address)]


def is_host_address(text):
    """Whether a composed ansible_host can be handed to ssh: an IP address or a DNS name, never an option like '-o...'."""
    return is_ip(text) or (isinstance(text, str) and _DNS_NAME_RE.match(text) is not None)


def ansible_host(hostnames, variables):
    for entry in hostnames:
        if entry in ADDRESS_KINDS and is_ip(_kind_value(entry, variables)):
            return _kind_value(entry, variables)
    for kind in ADDRESS_KINDS:
        if is_ip(_kind_value(kind, variables)):
            return _kind_value(kind, variables)
    return None


def unusable_name(name):
    """Why a host name cannot be used as it is ('' when it can): it would be a template, or an option to ssh."""
    if has_template_marker(name):
        return "holds a template marker ({{, {% or {#)"
    if name.startswith("-"):
        return "starts with '-' (an option to ssh)"
    return ""


def check_hostnames(hostnames):
    """Raise AnsibleParserError for an entry that is neither a known kind nor a template."""
    if not hostnames:
        raise AnsibleParserError("hostnames is empty: give at least one of %s, or a template like '{{ instance_name }}'." % ", ".join(HOSTNAME_KINDS))
    for entry in hostnames:
        if not isinstance(entry, str) or (entry not in HOSTNAME_KINDS and "{{" not in entry):
            raise AnsibleParserError(
                "hostnames has %r: each entry is one of %s, or a Jinja2 template like '{{ instance_name }}.example.com'." % (entry, ", ".join(HOSTNAME_KINDS))
            )


def check_states(states):
    unknown = [s for s in states if s not in INSTANCE_STATES]
    if unknown:
        raise AnsibleParserError(
            "include_states has unknown states %s: use the API's states, in capitals: %s." % (", ".join(repr(s) for s in unknown), ", ".join(INSTANCE_STATES))
        )


def api_failure_message(error, region, endpoint_url, region_setting="region (TENCENTCLOUD_REGION)"):
    """The modules' wording (TencentCloudModule.fail_api) for a read that failed for good, naming the setting that gave the region."""
    text = error.describe("read the instances of region %s" % region, region, endpoint_url)
    return text.replace(_errors.CHECK_REGION, "check " + region_setting)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """The CVM instances of the configured regions as hosts, grouped and named as the options say."""

    NAME = "tencentcloud.cvm.cvm"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".cvm.yml", ".cvm.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        config = self._read_config_data(path)
        self._check_keys(config)
        settings = self._settings(config)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        hosts = None
        if use_cache:
            try:
                hosts = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if hosts is None:
            hosts = self._read_instances(settings)
        if update_cache:
            self._cache[cache_key] = hosts  # host variables only: no credential goes into the cache
        self._populate(hosts, settings)

    # -- options -------------------------------------------------------------------------------------------------------

    def _check_keys(self, config):
        """Ansible ignores unknown keys; a misspelt option would silently do nothing, so name it."""
        known = sorted(self._options)
        unknown = sorted(str(key) for key in config if key not in self._options)
        if unknown:
            import difflib  # pylint: disable=import-outside-toplevel  # only on this error path

            hints = [
                "%r (did you mean %r?)" % (key, guess[0]) if guess else repr(key)
                for key, guess in ((key, difflib.get_close_matches(key, known, n=1)) for key in unknown)
            ]
            raise AnsibleParserError("Unknown options in the inventory file: %s. Known options: %s." % (", ".join(hints), ", ".join(known)))

    @staticmethod
    def _connection(config):
        """The connection options: as the inventory file sets them, else from their environment variables (read, never changed),
        else their defaults; through the connection builder's spec, as the modules and the event source get theirs. The file's
        own values are read from its data: ansible-core before 2.18 answers get_option_and_origin from the configuration alone."""
        spec = _credentials.connection_argument_spec()
        given = {name: config[name] for name in spec if config.get(name) is not None}
        result, refusals = _credentials.validate_options(spec, given)
        if result.error_messages or refusals:
            text = " ".join(refusals + [str(error.msg).rstrip(".") + "." for error in result.errors])
            for secret in sorted(result._no_log_values, key=len, reverse=True):  # pylint: disable=protected-access
                text = text.replace(secret, "********")  # ansible-core's newer messages quote the bad value
            raise AnsibleParserError(text)
        return result.validated_parameters

    def _settings(self, config):
        """Everything checked before any request is sent; raises AnsibleParserError with the modules' wording."""
        hostnames = self.get_option("hostnames")
        check_hostnames(hostnames)
        states = self.get_option("include_states")
        check_states(states)
        connection = self._connection(config)
        try:
            region = _credentials.default_region(connection, self.display.warning)
        except _client.SettingsError as exc:
            raise AnsibleParserError(str(exc)) from None
        regions = self.get_option("regions") or ([region] if region else [])
        if not regions:
            raise AnsibleParserError(
                "regions is required: set the option regions (a list), or region or the environment variable TENCENTCLOUD_REGION, e.g. ap-guangzhou."
            )
        filters = self.get_option("filters") or None
        try:
            for region in regions:  # the clients' own checks, before any credential is looked up (and when the cache answers)
                _client.check_settings(
                    region,
                    connection["endpoint"],
                    connection["request_timeout"],
                    connection["api_deadline"],
                    connection["ca_bundle"],
                    connection["rate_limit_url"],
                    connection["rate_limit_ca_bundle"],
                )
            api_filters = _lookup.filters_to_api(filters, option="filters") if filters else None
        except (_client.SettingsError, _lookup.LookupInputError) as exc:
            raise AnsibleParserError(str(exc)) from None
        region_setting = "regions in the inventory source" if self.get_option("regions") else "region (TENCENTCLOUD_REGION)"
        return {
            "regions": _lookup.unique(regions),
            "region_setting": region_setting,
            "hostnames": hostnames,
            "states": set(states),
            "filters": filters,
            "api_filters": api_filters,
            "connection": connection,
        }

    # -- reading -------------------------------------------------------------------------------------------------------

    def _read_instances(self, settings):
        """Host variables of every matching instance of every region, in region order, then by instance ID."""
        if not _client.HAS_SDK:
            raise AnsibleError(missing_required_lib(_client.SDK_REQUIREMENT))
        try:
            # One credential for every region: an assumed role's keys are renewed once, for all of them.
            apis = list(_credentials.build_clients(settings["connection"], settings["regions"], warn=self.display.warning).values())
        except _client.SettingsError as exc:
            raise AnsibleParserError(str(exc)) from None

        def read(api):
            try:
                return [host_vars(raw, api.region) for raw in _lookup.find_instances(api, filters=settings["filters"])]
            except _client.CvmApiError as exc:
                raise AnsibleError(api_failure_message(exc, api.region, api.endpoint_url, settings["region_setting"])) from None

        with ThreadPoolExecutor(max_workers=min(MAX_REGION_WORKERS, len(apis))) as pool:
            per_region = list(pool.map(read, apis))
        return [variables for hosts in per_region for variables in hosts]

    # -- building the inventory ----------------------------------------------------------------------------------------

    def _hostname(self, hostnames, variables, taken, refused):
        """The host name of one instance: the first preference that gives a usable name not taken, else the instance ID.

        A name that would hold a template marker or start with '-' is never used: the instance keeps its ID as its name and
        goes into `refused` (reported once per parse). Control characters are escaped (printable), as in every label.
        """
        strict = self.get_option("strict")
        for entry in hostnames:
            if entry in HOSTNAME_KINDS:
                name = _kind_value(entry, variables)
                if entry in ADDRESS_KINDS and name and not is_ip(name):
                    continue  # never reached: _populate leaves out an instance with such an address
            else:
                self.templar.available_variables = wrap_var(variables)  # the values are data, never templates
                try:
                    name = self.templar.template(entry)
                except Exception as exc:  # pylint: disable=broad-except
                    if strict:
                        raise AnsibleError(
                            "Could not render the hostnames template %r for %s: %s" % (entry, variables["instance_id"], printable(exc))
                        ) from None
                    continue
                name = str(name).strip() if name is not None else ""
            if not name:
                continue
            reason = unusable_name(name)
            if reason:
                refused.append((variables["instance_id"], name, reason))
                return variables["instance_id"]
            name = printable(name)
            if name not in taken:
                return name
        return variables["instance_id"]

    def _warn_refused(self, refused, what):
        if refused:
            entries = ["%s ('%s' %s)" % (instance_id, printable(text), reason) for instance_id, text, reason in refused]
            self.display.warning("%s: %s." % (what, "; ".join(entries)))

    def _populate(self, hosts, settings):
        strict = self.get_option("strict")
        taken: set[str] = set()
        refused_names: list[tuple] = []
        refused_addresses: list[tuple] = []
        refused_hosts: list[tuple] = []
        for variables in hosts:
            if variables["instance_state"] not in settings["states"]:
                continue
            bad = bad_addresses(variables)
            if bad:  # never handed to ssh, nor made a host name: the instance is left out
                refused_addresses.append((variables["instance_id"], bad[0], "is not an IP address"))
                continue
            name = self._hostname(settings["hostnames"], variables, taken, refused_names)
            if name in taken:  # two instances whose every preference collides: keep both, by ID
                self.display.warning(
                    "Two CVM instances would both be named %s: %s keeps its instance ID as its name." % (printable(name), variables["instance_id"])
                )
                name = variables["instance_id"]
            # Every value comes from the API (an instance name can be anything, '{{ lookup(...) }}' too): never a template.
            # ansible-core 2.19 and later treat an inventory plugin's values so by themselves; older releases need the marking.
            variables = wrap_var(dict(variables, ansible_host=ansible_host(settings["hostnames"], variables)))
            host_vars_ok = self._add_host(name, variables, strict)
            if not host_vars_ok:
                host = self.inventory.get_host(name)
                refused_hosts.append((variables["instance_id"], host.get_vars().get("ansible_host"), "is neither an IP address nor a DNS name"))
                self.inventory.remove_host(host)  # type: ignore[arg-type]  # _add_host just added it
                continue
            taken.add(name)
        self._warn_refused(refused_names, "CVM instance names that cannot be host names, so these hosts are named by their instance ID")
        self._warn_refused(refused_addresses, "CVM instances left out of the inventory, as ansible_host would not be an address")
        self._warn_refused(refused_hosts, "CVM instances left out of the inventory, as ansible_host would not be an address")

    def _add_host(self, name, variables, strict):
        """Add one host, its groups and variables; False when the composed ansible_host is not an address (the caller removes it)."""
        region_group = self.inventory.add_group(group_name(variables["region"]))
        if variables["zone"]:  # a host of a zone group is in its region group through the child group
            zone_group = self.inventory.add_group(group_name(variables["zone"]))
            self.inventory.add_child(region_group, zone_group)
            self.inventory.add_host(name, group=zone_group)
        else:
            self.inventory.add_host(name, group=region_group)
        for key, value in variables.items():
            self.inventory.set_variable(name, key, value)
        # Composed variables first, so that groups and keyed groups can use them (as ansible.builtin.constructed does).
        self._set_composite_vars(self.get_option("compose"), variables, name, strict=strict)
        address = self.inventory.get_host(name).get_vars().get("ansible_host")
        if address is not None and not is_host_address(address):
            return False
        variables = self.inventory.get_host(name).get_vars()
        self._add_host_to_composed_groups(self.get_option("groups"), variables, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, name, strict=strict)
        return True

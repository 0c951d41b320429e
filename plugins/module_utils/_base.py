# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the base layer, what every tencentcloud.cvm module builds on.

It adds the shared connection options to a module's own, builds the API
client from them, exposes what modules need of AnsibleModule (check_mode,
diff, no_log_values, warn), and is the one place that ends a run: finish()
turns a module's result into exit_json, or a ModuleFailure into fail_json.
Layer 7 (base). May import: every lower layer (_ids, _errors, _shared_limiter, _client, _lookup, _credentials, _key_changes,
_key_pairs); never a module.
"""

from __future__ import annotations

import decimal
import os

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule, _load_params, env_fallback, missing_required_lib

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _credentials


def connection_argument_spec():
    """The options documented once in the tencentcloud.cvm.connection doc fragment."""
    return dict(
        # The id is not secret (like an AWS access key id): showing it makes output useful.
        secret_id=dict(type="str", no_log=False, fallback=(env_fallback, ["TENCENTCLOUD_SECRET_ID"])),
        secret_key=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_SECRET_KEY"])),
        security_token=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_SECURITY_TOKEN"])),
        profile=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_PROFILE"])),
        role_arn=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_ROLE_ARN"])),
        role_session_name=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_ROLE_SESSION_NAME"])),
        role_duration=dict(type="int", default=_credentials.DEFAULT_ROLE_DURATION, fallback=(env_fallback, ["TENCENTCLOUD_ROLE_DURATION"])),
        role_external_id=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_ROLE_EXTERNAL_ID"])),
        sts_endpoint=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_STS_ENDPOINT"])),
        region=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_REGION"])),
        endpoint=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_ENDPOINT"])),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["TENCENTCLOUD_CA_BUNDLE"])),
        request_timeout=dict(type="int", default=_client.DEFAULT_REQUEST_TIMEOUT),
        api_deadline=dict(type="int", default=_client.DEFAULT_API_DEADLINE, fallback=(env_fallback, ["TENCENTCLOUD_API_DEADLINE"])),
        allow_insecure_http=dict(type="bool", default=False, fallback=(env_fallback, ["TENCENTCLOUD_ALLOW_INSECURE_HTTP"])),
        rate_limit_url=dict(type="str", no_log=False, fallback=(env_fallback, ["TENCENTCLOUD_RATE_LIMIT_URL"])),
        rate_limit_password=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_RATE_LIMIT_PASSWORD"])),
        rate_limit_ca_bundle=dict(type="path", fallback=(env_fallback, ["TENCENTCLOUD_RATE_LIMIT_CA_BUNDLE"])),
    )


def unset_empty_number_variables(spec):
    """Drop (from this process's environment) the variables of number (and boolean) options that are set to ''.

    An empty variable means "not set" for every option; AWX injects one for each credential input left
    empty. Ansible's env_fallback would pass '' on, which a string option treats as unset but an int or
    bool option refuses; without the variable, the option's default applies.
    """
    for settings in spec.values():
        if settings.get("type") in ("int", "bool") and "fallback" in settings:
            for name in settings["fallback"][1]:
                if os.environ.get(name) == "":
                    del os.environ[name]


def unconvertible_numbers(spec):
    """{option: text} for int options given as text that ansible-core cannot turn into a number safely.

    ansible-core converts '1e9' through decimal.Decimal: 'Infinity' then escapes its error handling (OverflowError, a
    crash), and an exponent like '1e999999999' builds an integer of a billion digits (a hang). Found here first, from the
    module's arguments or the environment fallback, they are refused with a message instead.
    """
    if getattr(basic, "_ANSIBLE_ARGS", None) is None:
        return {}  # not a module run with arguments (sanity's argument_spec introspection): nothing to read
    raw = _load_params()
    found = {}
    for name, settings in spec.items():
        if settings.get("type") != "int":
            continue
        value = raw.get(name)
        if value is None and "fallback" in settings:
            value = next((os.environ[var] for var in settings["fallback"][1] if var in os.environ), None)
        if isinstance(value, str):
            try:
                number = decimal.Decimal(value.strip())
            except decimal.DecimalException:
                continue  # ansible-core refuses it with its own clear message
            if not number.is_finite() or number.adjusted() > 30:
                found[name] = value
    return found


def number_refusal(name, text):
    problem = _client.seconds_problem(name, text) if name in SECONDS_OPTIONS else None
    return problem or "%s must be a whole number, got %s." % (name, repr(text)[:40])


# The options counted in seconds, bounded by _client.MAX_SECONDS (modules add their own wait_timeout).
SECONDS_OPTIONS = ("request_timeout", "api_deadline", "wait_timeout")


class ModuleFailure(Exception):
    """The one exception a module's run raises: the message, and the result so far (changed, request ids...) with extras."""

    def __init__(self, msg, payload):
        super().__init__(msg)
        self.msg = msg
        self.payload = payload


class TencentCloudModule:
    """An AnsibleModule with the shared connection options, the API client and uniform failures."""

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        unset_empty_number_variables(spec)
        unconvertible = unconvertible_numbers(spec)
        if unconvertible:
            # Parsed as text, so that AnsibleModule gets as far as failing with the message (and the masked invocation).
            spec = {name: dict(settings, type="str") if name in unconvertible else settings for name, settings in spec.items()}
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        if unconvertible:
            self.module.fail_json(msg=" ".join(number_refusal(name, text) for name, text in sorted(unconvertible.items()))
                                  + " Nothing was changed.")
        self.params = self.module.params
        self.mask_endpoint_user_info()  # before any failure can show the invocation
        self.result = {"changed": False}
        self._api = None
        self._finishing = False  # inside finish(): failures are raised as ModuleFailure, and finish() reports them once
        if not _client.HAS_SDK:
            self.module.fail_json(msg=missing_required_lib(_client.SDK_REQUIREMENT), exception=_client.SDK_IMPORT_ERROR)

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def diff(self):
        """Whether the run was asked for a diff (--diff)."""
        return self.module._diff

    @property
    def no_log_values(self):
        """Values masked in anything the module prints: add a secret here as soon as it is known."""
        return self.module.no_log_values

    def finish(self, run, refusals=(), read_only=False):
        """The one exit of a module: refuse bad options (nothing is sent), else run() and exit with the result it returns.

        refusals: sentences saying what is wrong with the module's options (empty when they are usable); run() returns the
        result dict or raises ModuleFailure. Either way exit_json or fail_json is called exactly once, here.
        """
        self._finishing = True
        try:
            if refusals:
                self.fail(" ".join(refusals) + ("" if read_only else " Nothing was changed."))
            result = run()
        except ModuleFailure as failure:
            self.module.fail_json(msg=failure.msg, **failure.payload)
        self.module.exit_json(**result)

    @property
    def api(self):
        """The API client, built on first use so that validation failures cost no credential lookup."""
        if self._api is None:
            params = self.params
            try:
                for name in ("request_timeout", "api_deadline"):
                    _client.check_seconds(name, params[name])
                if not params["region"]:
                    params["region"] = _credentials.profile_region(params["profile"], self.warn)
                _client.check_region(params["region"])
                _client.parse_endpoint(params["endpoint"])
                _client.check_rate_limit_url(params["rate_limit_url"], params["rate_limit_ca_bundle"])
                credential = _credentials.connect(params, params["region"], warn=self.warn)
                self._api = _client.CvmApi(credential, params["region"], endpoint=params["endpoint"],
                                           request_timeout=params["request_timeout"], ca_bundle=params["ca_bundle"],
                                           api_deadline=params["api_deadline"], warn=self.warn,
                                           allow_insecure_http=params["allow_insecure_http"], rate_limit_url=params["rate_limit_url"],
                                           rate_limit_password=params["rate_limit_password"],
                                           rate_limit_ca_bundle=params["rate_limit_ca_bundle"])
            except _client.SettingsError as exc:
                self.fail(str(exc))
        return self._api

    def mask_endpoint_user_info(self):
        """An endpoint with user:password@ is refused (parse_endpoint); the invocation the result shows must not hold it either.
        rate_limit_url may hold a password (redis://:password@host): it is used, and masked the same way."""
        for name in ("endpoint", "rate_limit_url"):
            value = self.params.get(name)
            if not isinstance(value, str):
                continue
            user_info = _client.endpoint_user_info(value)  # the parser's own reading of where user info is
            if user_info:
                # Masked wherever it could still appear; a password too short to mask safely appears nowhere anyway.
                self.no_log_values.add(user_info)
                password = user_info.partition(":")[2]
                if len(password) >= 4:
                    self.no_log_values.add(password)
                if name == "endpoint":
                    self.params[name] = _client.mask_endpoint(value)

    def fail(self, msg, **extra):
        """Fail with what has been done so far (changed, request ids...) kept in the result.

        Inside finish() this raises ModuleFailure (finish() reports it); outside (start-up, narrow tests) it fails at once.
        """
        payload = dict(self.result)
        payload.update(extra)
        if self._finishing:
            raise ModuleFailure(msg, payload)
        self.module.fail_json(msg=msg, **payload)

    def fail_api(self, error, attempting, **extra):
        """Fail for a CvmApiError: say what was being attempted, what went wrong, and what to do."""
        msg = error.describe(attempting, self.params["region"], self._api.endpoint_url if self._api else "the endpoint")
        self.fail(msg, error=error.to_dict(), **extra)

    def warn(self, message):
        self.module.warn(message)

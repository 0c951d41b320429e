# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the base every tencentcloud.cvm module builds on.

It adds the shared connection options to a module's own, builds the API
client from them, and is the one place that turns a failure into fail_json.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client


def connection_argument_spec():
    """The options documented once in the tencentcloud.cvm.connection doc fragment."""
    return dict(
        # The id is not secret (like an AWS access key id): showing it makes output useful.
        secret_id=dict(type="str", no_log=False, fallback=(env_fallback, ["TENCENTCLOUD_SECRET_ID"])),
        secret_key=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_SECRET_KEY"])),
        security_token=dict(type="str", no_log=True, fallback=(env_fallback, ["TENCENTCLOUD_SECURITY_TOKEN"])),
        region=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_REGION"])),
        endpoint=dict(type="str", fallback=(env_fallback, ["TENCENTCLOUD_ENDPOINT"])),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["TENCENTCLOUD_CA_BUNDLE"])),
        request_timeout=dict(type="int", default=30),
    )


class TencentCloudModule:
    """An AnsibleModule with the shared connection options, the API client and uniform failures."""

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.result = {"changed": False}
        self._api = None
        if not _client.HAS_SDK:
            self.module.fail_json(msg=missing_required_lib(_client.SDK_REQUIREMENT), exception=_client.SDK_IMPORT_ERROR)

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def api(self):
        """The API client, built on first use so that validation failures cost no credential lookup."""
        if self._api is None:
            params = self.params
            if params["request_timeout"] <= 0:
                self.fail("request_timeout must be a positive number of seconds, got %d." % params["request_timeout"])
            try:
                _client.check_region(params["region"])
                _client.parse_endpoint(params["endpoint"])
                credential = _client.resolve_credential(params["secret_id"], params["secret_key"], params["security_token"])
                self._api = _client.CvmApi(credential, params["region"], endpoint=params["endpoint"],
                                           request_timeout=params["request_timeout"], ca_bundle=params["ca_bundle"])
            except _client.SettingsError as exc:
                self.fail(str(exc))
        return self._api

    def fail(self, msg, **extra):
        """Fail with what has been done so far (changed, request ids...) kept in the result."""
        payload = dict(self.result)
        payload.update(extra)
        self.module.fail_json(msg=msg, **payload)

    def fail_api(self, error, attempting, **extra):
        """Fail for a CvmApiError: say what was being attempted, what went wrong, and what to do."""
        msg = "Failed to %s: %s (%s)." % (attempting, error.message.rstrip("."), error.code)
        if error.attempts > 1:
            msg += " Gave up after %d attempts." % error.attempts
        msg += " " + error.hint(region=repr(self.params["region"]), endpoint=self._api.endpoint_url if self._api else "the endpoint")
        if error.request_id:
            msg += " RequestId: %s." % error.request_id
        self.fail(msg, error=error.to_dict(), **extra)

    def warn(self, message):
        self.module.warn(message)

    def exit(self, **extra):
        payload = dict(self.result)
        payload.update(extra)
        self.module.exit_json(**payload)

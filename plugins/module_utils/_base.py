# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to this collection: the base layer, what every tencentcloud.cvm module builds on.

It adds the shared connection options to a module's own, gets the API client
for them from the connection builder (_credentials.build_clients), exposes what modules need of AnsibleModule (check_mode,
diff, no_log_values, warn), and is the one place that ends a run: finish()
turns a module's result into exit_json, or a ModuleFailure into fail_json.
Layer 7 (base). May import: every lower layer (_ids, _errors, _shared_limiter, _client, _lookup, _credentials, _key_changes,
_key_pairs); never a module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NoReturn
from collections.abc import Sequence

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client
from ansible_collections.tencentcloud.cvm.plugins.module_utils import _credentials

if TYPE_CHECKING:  # for the annotations only
    from ansible_collections.tencentcloud.cvm.plugins.module_utils._client import CvmApi, CvmApiError


# The modules' connection options: the one spec of the connection builder (see _credentials).
connection_argument_spec = _credentials.connection_argument_spec


class ModuleFailure(Exception):
    """The one exception a module's run raises: the message, and the result so far (changed, request ids...) with extras."""

    def __init__(self, msg: str, payload: dict[str, Any]) -> None:
        super().__init__(msg)
        self.msg = msg
        self.payload = payload


def _raise(failure: ModuleFailure) -> NoReturn:
    raise failure


class TencentCloudModule:
    """An AnsibleModule with the shared connection options, the API client and uniform failures."""

    def __init__(self, argument_spec: dict[str, dict[str, Any]], **kwargs: Any) -> None:
        spec = connection_argument_spec()
        spec.update(argument_spec)
        # The module's own arguments, read through the function ansible-core moved out of AnsibleModule so that modules can read
        # them (ansible-test's validate-modules stubs it to return None while it inspects the argument spec).
        unconvertible = _credentials.unconvertible_numbers(spec, basic._load_params() or {})
        if unconvertible:
            # Parsed as text, so that AnsibleModule gets as far as failing with the message (and the masked invocation).
            spec = {name: dict(settings, type="str") if name in unconvertible else settings for name, settings in spec.items()}
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.mask_endpoint_user_info()  # before any failure can show the invocation
        self.result = {"changed": False}
        self._api: CvmApi | None = None
        self._finishing = False  # inside finish(): failures are raised as ModuleFailure, and finish() reports them once
        if unconvertible:
            self.fail(" ".join(_credentials.number_refusal(name, text) for name, text in sorted(unconvertible.items())) + " Nothing was changed.")
        if not _client.HAS_SDK:
            self.fail(missing_required_lib(_client.SDK_REQUIREMENT), exception=_client.SDK_IMPORT_ERROR)

    @property
    def check_mode(self) -> bool:
        return self.module.check_mode

    @property
    def diff(self) -> bool:
        """Whether the run was asked for a diff (--diff)."""
        return self.module._diff  # pylint: disable=protected-access  # ansible-core has no public name for --diff

    @property
    def no_log_values(self) -> set[str]:
        """Values masked in anything the module prints: add a secret here as soon as it is known."""
        return self.module.no_log_values

    def finish(self, run: Callable[[], dict[str, Any]], refusals: Sequence[str] = (), read_only: bool = False) -> NoReturn:
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
    def api(self) -> CvmApi:
        """The API client, built on first use so that validation failures cost no credential lookup."""
        if self._api is None:
            params = self.params
            try:
                params["region"] = _credentials.default_region(params, self.warn)
                self._api = _credentials.build_clients(params, [params["region"]], warn=self.warn)[params["region"]]
            except _client.SettingsError as exc:
                self.fail(str(exc))
        return self._api

    def mask_endpoint_user_info(self) -> None:
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

    def fail(self, msg: str, **extra: Any) -> NoReturn:
        """Fail with what has been done so far (changed, request ids...) kept in the result.

        Inside finish() this raises ModuleFailure (finish() reports it); outside (start-up, narrow tests) it ends the run at
        once, through finish() all the same: finish() is the only caller of exit_json and fail_json.
        """
        payload = dict(self.result)
        payload.update(extra)
        failure = ModuleFailure(msg, payload)
        if self._finishing:
            raise failure
        self.finish(lambda: _raise(failure))

    def fail_api(self, error: CvmApiError, attempting: str, **extra: Any) -> NoReturn:
        """Fail for a CvmApiError: say what was being attempted, what went wrong, and what to do."""
        msg = error.describe(attempting, self.params["region"], self._api.endpoint_url if self._api else "the endpoint")
        self.fail(msg, error=error.to_dict(), **extra)

    def warn(self, message: str) -> None:
        self.module.warn(message)

# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for the collection's narrow unit tests (run by ansible-test units and by pytest)."""

from __future__ import annotations

import contextlib
import json
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.utils.collection_loader import AnsibleCollectionConfig

# Every unit test imports the collection through ansible's collection finder, installed here before any test module is
# imported: a package imported plainly first is refused by a finder installed later (collection_path.import_through_ansible),
# so the order the test modules run in must not decide it. ansible-test units installs the finder itself; under plain
# pytest, tests/support is on pytest.ini's pythonpath.
if AnsibleCollectionConfig.collection_finder is None:
    from collection_path import collections_path, import_through_ansible  # pylint: disable=import-error

    import_through_ansible(collections_path())

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19 has no helper; setting _ANSIBLE_ARGS is what it replaces.
    @contextlib.contextmanager
    def patch_module_args(args=None):
        with mock.patch.object(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()):
            yield


class ModuleExit(Exception):
    """Raised instead of sys.exit by exit_json/fail_json, carrying the result."""

    def __init__(self, failed, result):
        super().__init__(result)
        self.failed = failed
        self.result = result


@pytest.fixture
def use_api(monkeypatch):
    """Make TencentCloudModule.api hand out the given in-memory API instead of building a real client."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils import _base

    def install(api):
        monkeypatch.setattr(_base._client, "CvmApi", lambda *args, **kwargs: api)
        return api
    return install


@pytest.fixture
def run_module(monkeypatch):
    """Run a module's main() with args; return (failed, result) as exit_json/fail_json would have sent them."""
    def fake_exit(self, **kwargs):
        raise ModuleExit(False, kwargs)

    def fake_fail(self, msg, **kwargs):
        kwargs["msg"] = msg
        raise ModuleExit(True, kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", fake_exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fake_fail)

    def run(main, args):
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as caught:
                main()
        return caught.value.failed, caught.value.result
    return run

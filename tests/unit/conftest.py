# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for the collection's narrow unit tests (run by ansible-test units and by pytest)."""

from __future__ import annotations

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


@pytest.fixture
def use_api(monkeypatch):
    """Make TencentCloudModule.api hand out the given in-memory API instead of building a real client."""
    from ansible_collections.tencentcloud.cvm.plugins.module_utils import _client  # pylint: disable=import-outside-toplevel

    def install(api):
        monkeypatch.setattr(_client, "CvmApi", lambda *args, **kwargs: api)
        return api

    return install


@pytest.fixture
def run_module(monkeypatch):
    """Run a module's main() with args; return (failed, result) as exit_json/fail_json would have sent them."""
    # Imported here, after the collection finder above is in place.
    from ansible_collections.tencentcloud.cvm.tests.unit.plugins.module_runner import ModuleExit, patch_module_args  # pylint: disable=import-outside-toplevel

    def fake_exit(self, **kwargs):
        raise ModuleExit(False, kwargs)

    def fake_fail(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise ModuleExit(True, kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", fake_exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fake_fail)

    def run(main, args):
        with patch_module_args(args), pytest.raises(ModuleExit) as caught:
            main()
        return caught.value.failed, caught.value.result

    return run

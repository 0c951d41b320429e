# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plugin loader must know this collection before anything imports it: inventory options come from its documentation.

ansible-test units has configured the loader already (then this does nothing); under plain pytest the collection is
found through the ansible_collections directory on sys.path that holds this checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig

ROOT = Path(__file__).resolve().parents[4]  # the checkout: tests/unit/plugins/inventory/conftest.py


def _collections_path():
    for entry in sys.path:
        candidate = Path(entry or ".") / "ansible_collections" / "tencentcloud" / "cvm"
        if candidate.is_dir() and candidate.resolve() == ROOT:
            return entry
    return str(ROOT.parents[2]) if ROOT.parent.name == "tencentcloud" else None


if AnsibleCollectionConfig.collection_finder is None:
    init_plugin_loader([p for p in [_collections_path()] if p])

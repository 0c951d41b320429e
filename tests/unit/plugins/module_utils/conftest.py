# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the module_utils unit tests (pytest finds them; no test imports this file)."""

from __future__ import annotations

import pytest

from ansible_collections.tencentcloud.cvm.plugins.module_utils import _shared_limiter as shared


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """The shared rate limit warns once per process and prunes each folder once: every test starts as a new process."""
    monkeypatch.setattr(shared, "_WARNED", set())
    monkeypatch.setattr(shared, "_PRUNED", set())
    monkeypatch.setattr(shared, "_FELL_BACK", set())
    monkeypatch.setattr(shared, "_REDIS_FELL_BACK", set())


@pytest.fixture
def folder(tmp_path):
    """A private (0700) folder for the shared rate limit's state files."""
    return shared.private_folder(str(tmp_path / "limits"))

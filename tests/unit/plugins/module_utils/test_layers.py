# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils is layered (docs/architecture.md): every file imports only from the layers below it."""

from __future__ import annotations

import ast
import pathlib

import pytest

MODULE_UTILS = pathlib.Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
PACKAGE = "ansible_collections.tencentcloud.cvm.plugins.module_utils"

# Lowest first; a file may import files of lower layers only (never its own layer's other files, never a higher one).
LAYERS = [
    {"_ids"},
    # _shared_limiter: the cross-process rate limit that _client uses.
    {"_errors", "_shared_limiter"},
    {"_client"},
    {"_lookup", "_credentials"},  # _credentials: the chain and STS AssumeRole, through _client
    {"_keypair_binding"},
    {"_base"},
]
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}


def module_utils_imports(path):
    """The module_utils files `path` imports, by name (from ... import, import ..., relative imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from . import _ids / from ._ids import x
                module = PACKAGE + ("." + module if module else "")
            if module == PACKAGE:
                names.update(alias.name for alias in node.names)
            elif module.startswith(PACKAGE + "."):
                names.add(module[len(PACKAGE) + 1:].split(".")[0])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    names.add(alias.name[len(PACKAGE) + 1:].split(".")[0])
    return names


FILES = sorted(p for p in MODULE_UTILS.glob("*.py") if p.name != "__init__.py")


def test_every_module_utils_file_has_a_layer():
    assert {p.stem for p in FILES} - set(LAYER_OF) == set(), "add new module_utils files to LAYERS (and docs/architecture.md)"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_imports_only_from_lower_layers(path):
    layer = LAYER_OF[path.stem]
    upward = sorted(name for name in module_utils_imports(path) if LAYER_OF.get(name, -1) >= layer)
    assert upward == [], "%s (layer %d) imports from its own or a higher layer: %s" % (path.name, layer, upward)


def test_the_checker_sees_an_upward_import(tmp_path):
    """The parser must catch each import form, or the layer test above could pass while checking nothing."""
    sample = tmp_path / "_ids.py"
    sample.write_text("from %s import _lookup\nfrom %s._base import X\nimport %s._client\nfrom . import _errors\n"
                      % (PACKAGE, PACKAGE, PACKAGE), encoding="utf-8")
    assert module_utils_imports(sample) == {"_lookup", "_base", "_client", "_errors"}

# -*- coding: utf-8 -*-
# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The user guide (docs/docsite/) against the code and files it describes.

The error code reference of docs/docsite/rst/troubleshooting.rst is generated from the modules' error table:
after changing plugins/module_utils/_errors.py, regenerate it with

    PYTHONPATH=tests/support python tests/awx/test_docsite.py --write
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile

import pytest
import yaml

from ansible_env import BIN, clean_environment  # pylint: disable=import-error
from awx_support import (  # pylint: disable=import-error
    CREDENTIAL_TYPE_FILE, EE_EXAMPLE_FILE, collections_root, import_collection_root, import_connection_argument_spec,
)
from shared_constants import REPO  # pylint: disable=import-error

DOCSITE = REPO / "docs" / "docsite"
RST = DOCSITE / "rst"
TROUBLESHOOTING = RST / "troubleshooting.rst"
BEGIN = ".. BEGIN GENERATED ERROR CODES (PYTHONPATH=tests/support python tests/awx/test_docsite.py --write; do not edit by hand)"
END = ".. END GENERATED ERROR CODES"


def import_errors_module(tmp_path):
    import_collection_root(tmp_path)
    from ansible_collections.tencentcloud.cvm.plugins.module_utils import _errors  # pylint: disable=import-outside-toplevel
    return _errors


def rst_text(text):
    """Plain text safe inside an RST paragraph or table cell: no markup character keeps a meaning."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"([*`|])", r"\\\1", text)
    return re.sub(r"(\w)_(?=\W|$)", r"\1\\_", text)  # a trailing underscore would make a reference


def retried(errors, retry_class, code=None):
    if retry_class is None:
        return "no"
    attempts = errors.max_attempts(code) if code else errors.MAX_ATTEMPTS[retry_class]
    return "yes, %s: up to %d attempts" % (retry_class, attempts)


def render_error_codes(errors):
    """The generated part of troubleshooting.rst: every code of ERROR_TABLE, then the family fallbacks."""
    lines = [
        ".. list-table::",
        "  :header-rows: 1",
        "  :widths: 32 18 50",
        "",
        "  * - Code",
        "    - Retried by the module",
        "    - What it means and what to do",
    ]
    for code, (retry_class, hint) in errors.ERROR_TABLE.items():
        lines += ["  * - ``%s``" % code, "    - %s" % retried(errors, retry_class, code), "    - %s" % rst_text(hint)]
    lines += [
        "",
        "A code that is not in the table is handled by its family, the first that matches:",
        "",
        ".. list-table::",
        "  :header-rows: 1",
        "  :widths: 32 18 50",
        "",
        "  * - Codes starting with",
        "    - Retried by the module",
        "    - What to do",
    ]
    for family, (retry_class, hint) in errors._FAMILY_HINTS.items():  # pylint: disable=protected-access
        lines += ["  * - ``%s``" % family, "    - %s" % retried(errors, retry_class), "    - %s" % rst_text(hint)]
    default_class, default_hint = errors.lookup("No.Such.Code.Anywhere")
    lines += ["  * - any other code", "    - %s" % retried(errors, default_class), "    - %s" % rst_text(default_hint)]
    return "\n".join(lines) + "\n"


def with_generated_section(document, generated):
    head, rest = document.split(BEGIN + "\n", 1)
    tail = rest.split(END + "\n", 1)[1]
    return head + BEGIN + "\n\n" + generated + "\n" + END + "\n" + tail


def test_error_code_reference_is_generated_from_the_error_table(tmp_path):
    document = TROUBLESHOOTING.read_text()
    assert document.count(BEGIN) == 1 and document.count(END) == 1
    expected = with_generated_section(document, render_error_codes(import_errors_module(tmp_path)))
    assert document == expected, "docs/docsite/rst/troubleshooting.rst is stale: run PYTHONPATH=tests/support python tests/awx/test_docsite.py --write"


def test_every_code_of_the_error_table_is_in_the_guide(tmp_path):
    errors = import_errors_module(tmp_path)
    document = TROUBLESHOOTING.read_text()
    missing = [code for code in errors.ERROR_TABLE if "``%s``" % code not in document]
    assert missing == []
    for code, (_retry_class, hint) in errors.ERROR_TABLE.items():
        assert rst_text(hint) in document, code


def test_user_guide_names_every_connection_option_and_variable(tmp_path):
    guide = (RST / "user_guide.rst").read_text()
    for option, settings in import_connection_argument_spec(tmp_path).items():
        if "fallback" in settings:
            assert "``%s``" % option in guide and "``%s``" % settings["fallback"][1][0] in guide, option
    assert "group/tencentcloud.cvm.tencentcloud" in guide
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    assert "tencentcloud" in runtime["action_groups"]


def yaml_blocks(path):
    """The YAML documents of the `.. code-block:: yaml` (and yaml+jinja) blocks of an RST file."""
    blocks = re.findall(r"^\.\. code-block:: yaml(?:\+jinja)?\n\n((?:  .*\n|\n)+)", path.read_text(), re.M)
    return [yaml.safe_load("\n".join(line[2:] for line in block.splitlines())) for block in blocks]


@pytest.mark.parametrize("shipped", [CREDENTIAL_TYPE_FILE, EE_EXAMPLE_FILE, REPO / "meta" / "execution-environment.yml",
                                     REPO / "docs" / "awx" / "inventory.cvm.yml"],
                         ids=lambda path: str(path.relative_to(REPO)))
def test_awx_guide_shows_the_shipped_files(shipped):
    assert yaml.safe_load(shipped.read_text()) in yaml_blocks(RST / "awx_guide.rst")


@pytest.mark.parametrize("example", ["awx_bind_keys.yml", "awx_bind_keys_group.yml"])
def test_awx_guide_shows_the_example_playbooks_binding_task(example):
    playbook = next(play for play in yaml.safe_load((REPO / "examples" / example).read_text())
                    if any("tencentcloud.cvm.cvm_keypair_association" in task for task in play["tasks"]))
    shown = [block for block in yaml_blocks(RST / "awx_guide.rst") if isinstance(block, list) and block[0]["hosts"] == playbook["hosts"]]
    assert len(shown) == 1
    bind = [task for task in playbook["tasks"] if "tencentcloud.cvm.cvm_keypair_association" in task]
    assert shown[0][0]["tasks"] == bind
    assert {k: v for k, v in shown[0][0].items() if k != "tasks"} == {k: v for k, v in playbook.items() if k != "tasks"}


def test_index_lists_every_guide_and_readme_links_it():
    index = yaml.safe_load((DOCSITE / "extra-docs.yml").read_text())
    refs = [entry["ref"] for section in index["sections"] for entry in section["toctree"]]
    assert sorted(refs) == sorted(path.stem for path in RST.glob("*.rst"))
    more = (REPO / "README.md").read_text().split("## More", 1)[1]
    assert "(docs/docsite/rst/user_guide.rst)" in more


def test_antsibull_docs_lint(tmp_path):
    """What the docs site build checks: labels, toctree, RST, and references to plugins and options."""
    antsibull_docs = BIN / "antsibull-docs"
    if not antsibull_docs.exists():
        pytest.skip("antsibull-docs is not installed next to %s (tests/requirements.txt)" % sys.executable)
    collection = collections_root(tmp_path) / "ansible_collections" / "tencentcloud" / "cvm"
    proc = subprocess.run([str(antsibull_docs), "lint-collection-docs", "--plugin-docs", "--check-extra-docs-refs", "."], cwd=str(collection),
                          env=clean_environment(tmp_path, ANSIBLE_HOME=tmp_path / "ansible-home"),
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def main():
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: PYTHONPATH=tests/support python tests/awx/test_docsite.py --write   (regenerates the error codes of %s)"
                 % TROUBLESHOOTING.relative_to(REPO))
    with tempfile.TemporaryDirectory() as tmp:
        generated = render_error_codes(import_errors_module(tmp))
    document = TROUBLESHOOTING.read_text()
    updated = with_generated_section(document, generated)
    if updated != document:
        TROUBLESHOOTING.write_text(updated)
        print("updated %s" % TROUBLESHOOTING.relative_to(REPO))
    else:
        print("%s is up to date" % TROUBLESHOOTING.relative_to(REPO))


if __name__ == "__main__":
    main()

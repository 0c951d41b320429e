# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way to make this checkout importable as the collection tencentcloud.cvm: a symlink
<root>/ansible_collections/tencentcloud/cvm -> the checkout, where <root> goes on a collections path
(ANSIBLE_COLLECTIONS_PATH, for ansible's collection loader) and on sys.path/PYTHONPATH (for Python imports
of ansible_collections.tencentcloud.cvm...). The link always shows the current working tree; ansible-test
needs a real copy, which antsibull-nox makes.

    from collection_path import collections_path, link_collection
    path = collections_path()        # ANSIBLE_COLLECTIONS_PATH when it holds this checkout, else a new link; on sys.path
    root = link_collection(tmp_path)  # link under a chosen root

From a shell (scripts/lib.sh, tc_link_collection): `python tests/support/collection_path.py DIR` links the checkout
under DIR and prints DIR. Standard library only, but for import_through_ansible() (ansible-core). This module is the
only test helper that touches sys.path and the import machinery.
"""

import os
import sys
import tempfile
from pathlib import Path

from shared_constants import REPO  # pylint: disable=import-error


def link_collection(root):
    """Make <root>/ansible_collections/tencentcloud/cvm a symlink to this checkout (replacing a link elsewhere); return root."""
    root = Path(root)
    namespace = root / "ansible_collections" / "tencentcloud"
    namespace.mkdir(parents=True, exist_ok=True)
    link = namespace / "cvm"
    if link.is_symlink() or not link.exists():
        if not (link.is_symlink() and link.resolve() == REPO):
            # A new link next to it, then renamed over it: never a moment without one (two runs may share root).
            temporary = namespace / (".cvm-%d" % os.getpid())
            if temporary.is_symlink():
                temporary.unlink()
            temporary.symlink_to(REPO)
            os.replace(temporary, link)
    elif link.resolve() != REPO:
        raise RuntimeError("%s exists and is not a link to %s" % (link, REPO))
    return root


def holds_checkout(root):
    """Whether <root>/ansible_collections/tencentcloud/cvm is this checkout."""
    return (Path(root or ".") / "ansible_collections" / "tencentcloud" / "cvm").resolve() == REPO


def put_on_sys_path(path):
    """Put each entry of a collections path (os.pathsep-separated) first on sys.path, keeping their order."""
    for entry in reversed(str(path).split(os.pathsep)):
        if entry and entry not in sys.path:
            sys.path.insert(0, entry)


def collections_path(given=None, root=None):
    """A collections path holding this checkout as tencentcloud.cvm: `given` (default: $ANSIBLE_COLLECTIONS_PATH, what
    scripts/lib.sh exports) when one of its entries holds it, else a link under `root` (default: a new temporary
    folder). It also goes on sys.path, so that tests can import the collection's own code and tables."""
    given = os.environ.get("ANSIBLE_COLLECTIONS_PATH") if given is None else given
    if given and any(holds_checkout(entry) for entry in given.split(os.pathsep) if entry):
        path = given
    else:
        path = str(link_collection(root or tempfile.mkdtemp(prefix="tencentcloud-cvm-collections-")))
    put_on_sys_path(path)
    return path


def import_through_ansible(path):
    """Install ansible's collection finder over a collections path, unless one is installed already (ansible-test
    units installs one; tests/unit/conftest.py and tests/e2e/conftest.py call this before any test module is imported).
    Every import of the collection's own code in this process then goes through the finder, as in ansible itself: a
    package imported plainly first is refused by a finder installed later, so suites sharing one pytest process must
    all take this way, in whatever order they run."""
    from ansible.plugins.loader import init_plugin_loader  # pylint: disable=import-outside-toplevel
    from ansible.utils.collection_loader import AnsibleCollectionConfig  # pylint: disable=import-outside-toplevel

    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader([entry for entry in str(path).split(os.pathsep) if entry])


def main(argv):
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python tests/support/collection_path.py DIR  (links this checkout as DIR/ansible_collections/tencentcloud/cvm)", file=sys.stderr)
        return 2
    print(link_collection(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

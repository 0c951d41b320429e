# Copyright (c) 2026, tencentcloud.cvm contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: rotation_batches
short_description: Split a list into the batches of a rolling change
version_added: 0.1.0
description:
  - Splits a list, in its order, into batches of a size given as a count or as a percentage of the list, as Ansible's C(serial) does.
  - The role C(tencentcloud.cvm.key_rotation) rotates its targets batch after batch with it.
author:
  - tencentcloud.cvm maintainers (@tencentcloud-cvm)
options:
  _input:
    description: The items to split.
    type: list
    elements: raw
    required: true
  batch_size:
    description:
      - A positive count like V(10), or a percentage of the list like V(10%) (rounded up, at least one item).
      - Empty, V(0) or V(100%) make one batch of everything. Any other value fails the filter, naming it.
    type: raw
    default: ""
"""

EXAMPLES = r"""
- name: Batches of a quarter of the fleet
  ansible.builtin.debug:
    msg: "{{ ['a', 'b', 'c', 'd', 'e'] | tencentcloud.cvm.rotation_batches('25%') }}"  # [['a', 'b'], ['c', 'd'], ['e']]
"""

RETURN = r"""
_value:
  description: The batches, in order; no batch is empty, and an empty input gives no batch.
  type: list
  elements: list
"""

import math
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

SIZE_RE = re.compile(r"^\s*(\d+)\s*(%?)\s*$")


def batch_length(total, batch_size):
    """How many items one batch holds for a list of `total` items."""
    if batch_size is None or batch_size == "":
        return max(total, 1)
    if isinstance(batch_size, bool):
        match = None
    elif isinstance(batch_size, int):
        match = SIZE_RE.match(str(batch_size))
    else:
        match = SIZE_RE.match(to_text(batch_size)) if isinstance(batch_size, str) else None
    if match is None or (match.group(2) and int(match.group(1)) > 100):
        raise AnsibleFilterError(
            "the batch size %r is neither a count like 10 nor a percentage like '10%%' (at most 100%%): "
            "give one of these, or leave it empty for one batch" % (batch_size,)
        )
    number = int(match.group(1))
    if number == 0:
        return max(total, 1)
    if match.group(2):
        return max(int(math.ceil(total * number / 100.0)), 1)
    return number


def rotation_batches(items, batch_size=""):
    items = list(items or [])
    length = batch_length(len(items), batch_size)
    return [items[start : start + length] for start in range(0, len(items), length)]


class FilterModule:
    def filters(self):
        return {"rotation_batches": rotation_batches}

# Copyright (c) 2026 orionx-cyborg developers
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""How the ``orionx-cyborg`` commands print: tables and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from typing import TextIO


def print_table(
    rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO
) -> None:
    """*rows* under *headers*, in columns as wide as their widest cell."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [
            max(w, len(cell)) for w, cell in zip(widths, row, strict=True)
        ]
    line = '  '.join('%%-%ds' % w for w in widths)
    out.write((line % tuple(headers)).rstrip() + '\n')
    for row in rows:
        out.write((line % tuple(row)).rstrip() + '\n')


def print_json(document: Any, out: TextIO) -> None:
    """*document* as indented JSON with sorted keys."""
    json.dump(document, out, indent=2, sort_keys=True)
    out.write('\n')

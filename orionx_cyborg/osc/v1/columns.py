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

"""Columns that read well in a table and stay structured in JSON/YAML."""

from __future__ import annotations

import json
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from cliff import columns

from orionx_cyborg.clients import attach


class UsageColumn(columns.FormattableColumn[dict[str, int]]):
    """``32768/40000 (82%)``; ``{"capacity", "used", "free"}`` for scripts."""

    def __init__(self, usage: attach.Usage) -> None:
        super().__init__(usage.to_dict())

    def human_readable(self) -> str:
        usage = attach.Usage(**self._value)
        return '%d/%d (%.0f%%)' % (usage.used, usage.capacity, usage.percent)

    def machine_readable(self) -> dict[str, int]:
        return dict(self._value)


class MappingColumn(columns.FormattableColumn[Mapping[str, Any]]):
    """``a=1, b=2`` (sorted); the mapping for scripts."""

    def human_readable(self) -> str:
        return ', '.join(
            '%s=%s' % (key, value)
            for key, value in sorted(self._value.items())
        )

    def machine_readable(self) -> dict[str, Any]:
        return dict(self._value)


class RowsColumn(columns.FormattableColumn[Sequence[Mapping[str, Any]]]):
    """One line per item (``key=value ...``); the list for scripts."""

    def human_readable(self) -> str:
        return '\n'.join(
            ' '.join(
                '%s=%s' % (key, _text(value)) for key, value in item.items()
            )
            for item in self._value
        )

    def machine_readable(self) -> list[dict[str, Any]]:
        return [dict(item) for item in self._value]


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)

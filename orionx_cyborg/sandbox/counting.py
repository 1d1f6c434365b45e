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

"""Counting the requests Placement serves, by method and path.

The driver promises that an agent cycle with unchanged hardware makes no
Placement write (Cyborg's conductor diffs every report against its
database and writes only the difference). :class:`RequestCounter` wraps
Placement's WSGI application in the sandbox so tests and benchmarks can
count: ``GET /_sandbox/requests`` on the Placement port answers the
counts since the last reset, ``DELETE /_sandbox/requests`` answers them
and starts again from zero. The counter's own requests are not counted.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import threading
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from orionx_cyborg.sandbox import wsgi

COUNTER_PATH = '/_sandbox/requests'
WRITE_METHODS = frozenset({'PUT', 'POST', 'DELETE', 'PATCH'})
_UUID = re.compile(
    r'[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}'
)


def route_of(path: str) -> str:
    """*path* with UUIDs replaced by ``{uuid}``, to group requests."""
    return _UUID.sub('{uuid}', path)


class RequestCounter:
    """WSGI middleware: counts every request, serves the counts."""

    def __init__(self, app: wsgi.WSGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._counts: collections.Counter[tuple[str, str]] = (
            collections.Counter()
        )

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get('PATH_INFO', '')
        method = environ.get('REQUEST_METHOD', 'GET')
        if path == COUNTER_PATH:
            return self._serve(method, start_response)
        with self._lock:
            self._counts[(method, path)] += 1
        return self.app(environ, start_response)

    def document(self, reset: bool = False) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
            if reset:
                self._counts.clear()
        return counts_document(counts)

    def _serve(
        self, method: str, start_response: Callable[..., Any]
    ) -> list[bytes]:
        if method not in ('GET', 'DELETE'):
            return wsgi.json_response(
                start_response, '405 Method Not Allowed', {}
            )
        return wsgi.json_response(
            start_response, '200 OK', self.document(reset=method == 'DELETE')
        )


def counts_document(counts: Mapping[tuple[str, str], int]) -> dict[str, Any]:
    by_method: collections.Counter[str] = collections.Counter()
    by_route: collections.Counter[str] = collections.Counter()
    for (method, path), count in counts.items():
        by_method[method] += count
        by_route['%s %s' % (method, route_of(path))] += count
    return {
        'total': sum(counts.values()),
        'by_method': dict(sorted(by_method.items())),
        'by_route': dict(sorted(by_route.items())),
        'requests': [
            {'method': method, 'path': path, 'count': count}
            for (method, path), count in sorted(counts.items())
        ],
    }


@dataclasses.dataclass(frozen=True)
class RequestCounts:
    """What the counter answered."""

    total: int
    by_method: Mapping[str, int]
    by_route: Mapping[str, int]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> RequestCounts:
        return cls(
            total=int(document['total']),
            by_method=dict(document['by_method']),
            by_route=dict(document['by_route']),
        )

    @property
    def writes(self) -> int:
        """PUT, POST, DELETE and PATCH requests."""
        return sum(
            count
            for method, count in self.by_method.items()
            if method in WRITE_METHODS
        )

    def count(self, method: str) -> int:
        return self.by_method.get(method, 0)

    def write_routes(self) -> dict[str, int]:
        return {
            route: count
            for route, count in self.by_route.items()
            if route.split(' ', 1)[0] in WRITE_METHODS
        }

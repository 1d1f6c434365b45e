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

"""Process entry point: the real Placement API on loopback.

``python -m orionx_cyborg.sandbox.placement_server CONF_DIR PORT`` serves
``placement.wsgi.api`` (SQLite, ``noauth2``, schema synced at start),
behind a request counter (``/_sandbox/requests``, see :mod:`.counting`),
and prints a ``READY`` line when it accepts requests.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from orionx_cyborg.sandbox import counting
from orionx_cyborg.sandbox import lifecycle
from orionx_cyborg.sandbox import wsgi


class SerializedWrites:
    """One write at a time: what a database server would do for us.

    Placement on SQLite answers concurrent writers with 500 "database is
    locked" (a reader cannot upgrade its lock while another writes), where
    MySQL or PostgreSQL would queue them. Production Placement never runs
    on SQLite; the sandbox does, so it queues writes itself. Reads stay
    concurrent.
    """

    def __init__(self, app: wsgi.WSGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get('REQUEST_METHOD', 'GET') in ('GET', 'HEAD'):
            return self.app(environ, start_response)
        with self._lock:
            # Consume the body inside the lock: the write happens there.
            return list(self.app(environ, start_response))


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print('usage: placement_server CONF_DIR PORT', file=sys.stderr)
        return 2
    conf_dir, port = args[0], int(args[1])
    lifecycle.exit_with_parent()
    # placement.wsgi reads its configuration directory from the
    # environment, and importing placement.wsgi.api builds the application
    # (and syncs the database) right away, so the variable comes first.
    os.environ['OS_PLACEMENT_CONFIG_DIR'] = conf_dir
    api = importlib.import_module('placement.wsgi.api')
    server = wsgi.make_server(
        '127.0.0.1',
        port,
        counting.RequestCounter(SerializedWrites(api.application)),
    )
    wsgi.announce_ready('placement', port, started)
    server.serve_forever()
    return 0


if __name__ == '__main__':
    sys.exit(main())

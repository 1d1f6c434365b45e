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
``placement.wsgi.api`` (SQLite, ``noauth2``, schema synced at start) and
prints a ``READY`` line when it accepts requests.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

from orionx_cyborg.sandbox import lifecycle
from orionx_cyborg.sandbox import wsgi


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
    server = wsgi.make_server('127.0.0.1', port, api.application)
    wsgi.announce_ready('placement', port, started)
    server.serve_forever()
    return 0


if __name__ == '__main__':
    sys.exit(main())

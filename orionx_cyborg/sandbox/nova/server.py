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

"""Process entry point: the Nova stand-in.

``python -m orionx_cyborg.sandbox.nova.server STATE_DIR`` listens on the
manifest's Nova port, waits for Placement, registers the compute nodes
(as nova-compute would) and prints ``READY``. The socket listens before
the compute nodes exist, so Cyborg, which waits for them, always finds
Nova's endpoint answering.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from types import FrameType

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import lifecycle
from orionx_cyborg.sandbox import wsgi
from orionx_cyborg.sandbox.nova import api
from orionx_cyborg.sandbox.nova import computes
from orionx_cyborg.sandbox.nova import service

LOG = logging.getLogger(__name__)

PLACEMENT_TIMEOUT = 60.0


def wait_for_placement(
    placement: clients.JsonClient, timeout: float = PLACEMENT_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            placement.get('/')
            return
        except (clients.ApiError, OSError) as err:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    'Placement never answered: %s' % err
                ) from err
            time.sleep(0.05)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print('usage: nova.server STATE_DIR', file=sys.stderr)
        return 2
    manifest = layout.load_manifest(args[0])
    logging.basicConfig(
        level=logging.DEBUG if manifest.debug else logging.INFO,
        format='%(asctime)s %(process)d %(levelname)s %(name)s %(message)s',
    )
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    lifecycle.exit_with_parent()
    nova = service.NovaStandIn(manifest)
    server = wsgi.make_server(
        '127.0.0.1', manifest.nova_port, api.ComputeApp(nova)
    )
    wsgi.serve_in_thread(server, 'nova-api')
    wait_for_placement(nova.placement)
    computes.register_all(nova.placement, manifest)
    wsgi.announce_ready('nova', manifest.nova_port, started)
    signal.pause()
    return 0


if __name__ == '__main__':
    sys.exit(main())

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

"""The HTTP server every sandbox service uses: threaded stdlib wsgiref.

Placement, the Cyborg API and the Nova stand-in all run behind this server
on 127.0.0.1. It is enough for a test stack (the recipe measured it) and
needs nothing beyond the standard library.
"""

from __future__ import annotations

import json
import random
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from wsgiref import simple_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

READY_PREFIX = 'READY'


class ThreadingWSGIServer(
    socketserver.ThreadingMixIn, simple_server.WSGIServer
):
    """One thread per request, so a slow call never blocks the others."""

    daemon_threads = True
    allow_reuse_address = True
    #: The listen backlog (socketserver's default is 5). wsgiref speaks
    #: HTTP/1.0, so every call to Placement, Cyborg or the Nova stand-in
    #: is a new connection; with the attach service's dozens of threads
    #: a backlog of 5 overflowed, the kernel dropped the SYNs, and the
    #: client's retry after TCP's initial 1 s timeout was the 1-1.5 s
    #: p99 of the attach load benchmark.
    request_queue_size = 1024


class QuietHandler(simple_server.WSGIRequestHandler):
    """Drops the per-request access log line; services log what matters."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


def json_response(
    start_response: Callable[..., Any], status: str, body: Any
) -> list[bytes]:
    """Answer a WSGI request with *body* as JSON."""
    payload = json.dumps(body).encode()
    start_response(
        status,
        [
            ('Content-Type', 'application/json'),
            ('Content-Length', str(len(payload))),
        ],
    )
    return [payload]


def make_server(host: str, port: int, app: WSGIApp) -> ThreadingWSGIServer:
    server = ThreadingWSGIServer((host, port), QuietHandler)
    server.set_app(app)
    return server


def serve_in_thread(server: ThreadingWSGIServer, name: str) -> None:
    thread = threading.Thread(
        target=server.serve_forever, name=name, daemon=True
    )
    thread.start()


#: Linux's list of the ports it gives to outgoing connections.
_EPHEMERAL_RANGE = '/proc/sys/net/ipv4/ip_local_port_range'
#: How many ports below the ephemeral range the sandbox picks from.
_SPAN = 12000
_ATTEMPTS = 200


def free_ports(
    count: int, host: str = '127.0.0.1', rng: random.Random | None = None
) -> list[int]:
    """``count`` distinct ports, each picked as :func:`free_port` does.

    Services started together need this: ``count`` independent picks from
    the span may repeat a port (about 1.6% of the time for 20 services),
    and the second service to bind it then fails to start.

    :param count: how many ports.
    :param host: the address the services will bind.
    :param rng: the source of candidates (tests).
    :returns: the ports, all different.
    """
    ports: list[int] = []
    while len(ports) < count:
        port = free_port(host, rng)
        if port not in ports:
            ports.append(port)
    return ports


def free_port(
    host: str = '127.0.0.1', rng: random.Random | None = None
) -> int:
    """A port that was free a moment ago, below the ephemeral range.

    A port the kernel picks (bind to 0) comes from the ephemeral range,
    which it also gives to outgoing connections: between the pick and the
    service binding it, any client on the machine may take it (seen in CI
    as cyborg-api failing with "Address already in use"). Ports just
    below the range are only taken by those who bind them.

    :param host: the address the service will bind.
    :param rng: the source of candidates (tests).
    :returns: the port.
    """
    low = _ephemeral_low()
    if low - _SPAN < 1024:
        return _kernel_port(host)
    rng = rng or random.SystemRandom()
    for _ in range(_ATTEMPTS):
        port = rng.randint(low - _SPAN, low - 1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        return port
    return _kernel_port(host)


def _ephemeral_low() -> int:
    try:
        with open(_EPHEMERAL_RANGE, encoding='ascii') as ranges:
            return int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _kernel_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def announce_ready(service: str, port: int, started: float) -> None:
    """Print the line the orchestrator waits for; it must be flushed."""
    print(
        '%s %s port=%d in %.2fs'
        % (READY_PREFIX, service, port, time.monotonic() - started),
        file=sys.stdout,
        flush=True,
    )

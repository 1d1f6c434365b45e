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

"""The sandbox's HTTP server and the ports it picks."""

from __future__ import annotations

import random
import socket
import threading

from orionx_cyborg.sandbox import wsgi


def _hello(environ, start_response):
    start_response('200 OK', [('Content-Length', '2')])
    return [b'ok']


def test_a_burst_of_connections_waits_in_the_listen_backlog() -> None:
    """Far more connections than socketserver's backlog of 5, opened
    while the server accepts none: every one completes its handshake.
    """
    server = wsgi.make_server('127.0.0.1', 0, _hello)
    assert server.request_queue_size >= 1024
    port = server.server_address[1]
    connections = []
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        for _ in range(64):
            # The server is not accepting: only the backlog holds them.
            connections.append(
                socket.create_connection(('127.0.0.1', port), timeout=0.5)
            )
        serving.start()
        # Each answers at once: with a short backlog the kernel dropped
        # the handshake's last step of the later ones, and they answer
        # only after TCP's 1 s retransmission.
        for conn in connections:
            conn.sendall(b'GET / HTTP/1.0\r\n\r\n')
        for conn in connections:
            assert conn.recv(64).startswith(b'HTTP/1.0 200')
    finally:
        for conn in connections:
            conn.close()
        if serving.is_alive():
            server.shutdown()
        server.server_close()


def _ephemeral_low() -> int:
    with open('/proc/sys/net/ipv4/ip_local_port_range') as ranges:
        return int(ranges.read().split()[0])


def test_ports_come_from_below_the_ephemeral_range() -> None:
    """Outgoing connections take ports from the ephemeral range, so a
    port reserved there may be taken before the service binds it.
    """
    low = _ephemeral_low()
    ports = {wsgi.free_port() for _ in range(20)}
    assert all(low - 12000 <= p < low for p in ports), ports


class _Candidates(random.Random):
    """Candidate ports in a given order, for the pickers' ``rng``."""

    def __init__(self, ports: list[int]) -> None:
        super().__init__()
        self.ports = ports

    def randint(self, a: int, b: int) -> int:
        return self.ports.pop(0)


def test_a_taken_port_is_skipped() -> None:
    """The first candidate is bound by someone else: the next one is
    returned.
    """

    low = _ephemeral_low()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(('127.0.0.1', low - 1))
        taken.listen()
        other = low - 2
        assert wsgi.free_port(rng=_Candidates([low - 1, other])) == other


def test_ports_picked_together_differ() -> None:
    """Independent picks may repeat a port; services started together
    would then fight over it, so the repeat is picked again.
    """

    low = _ephemeral_low()
    picks = [low - 3, low - 3, low - 4, low - 3, low - 5]
    assert wsgi.free_ports(3, rng=_Candidates(picks)) == [
        low - 3,
        low - 4,
        low - 5,
    ]

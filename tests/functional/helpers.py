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

"""Helpers of the functional tests: names, waits, Cyborg and Placement."""

from __future__ import annotations

import contextlib
import json
import pathlib
import re
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox import stack

FINAL_STATUSES = ('ACTIVE', 'ERROR', 'SHELVED_OFFLOADED')


@contextlib.contextmanager
def started(sandbox: stack.Sandbox) -> Iterator[stack.Sandbox]:
    """Start *sandbox*; on exit stop it and check it left no process."""
    sandbox.start()
    records = [service.record for service in sandbox.services]
    try:
        yield sandbox
    finally:
        sandbox.stop()
        # Services restarted by a test have new records.
        left = [
            r
            for r in records + [s.record for s in sandbox.services]
            if processes.is_running(r)
        ]
        assert not left, 'sandbox processes left behind: %s' % left


def unique(prefix: str) -> str:
    """A name no other test uses: Cyborg and Nova names are global."""
    clean = re.sub(r'[^A-Za-z0-9_-]+', '-', prefix).strip('-')[:40]
    return '%s-%s' % (clean, uuid.uuid4().hex[:8])


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, what: str = ''
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(0.05)


def server_record(sandbox: stack.Sandbox, server_id: str) -> dict[str, Any]:
    """The stand-in's full record: ARQs, events, attachments."""
    record: dict[str, Any] = sandbox.nova_sandbox().get(
        '/sandbox/servers/%s' % server_id
    )['server']
    return record


def wait_for_server(
    sandbox: stack.Sandbox,
    server_id: str,
    statuses: tuple[str, ...] = FINAL_STATUSES,
    timeout: float = 30.0,
) -> dict[str, Any]:
    def settled() -> dict[str, Any] | None:
        record = server_record(sandbox, server_id)
        if record['status'] in statuses and record['task_state'] is None:
            return record
        return None

    result: dict[str, Any] = wait_for(
        settled, timeout, 'server %s to reach %s' % (server_id, statuses)
    )
    return result


def deployables(sandbox: stack.Sandbox) -> list[dict[str, Any]]:
    """Cyborg's deployables, with their attributes as a dict.

    The raw API: openstacksdk drops rp_uuid and attributes_list.
    """
    result = []
    for dep in sandbox.cyborg().get('/deployables')['deployables']:
        attributes = dep['attributes_list']
        if isinstance(attributes, str):
            attributes = json.loads(attributes)
        merged: dict[str, str] = {}
        for item in attributes:
            merged.update(item)
        result.append(dict(dep, attributes=merged))
    return result


def deployables_of(
    sandbox: stack.Sandbox, host: str, rc: str
) -> list[dict[str, Any]]:
    """Deployables of *host* (their names embed the host) of class *rc*."""
    return [
        dep
        for dep in deployables(sandbox)
        if dep['attributes'].get('rc') == rc
        and dep['name'].startswith(host + '_')
    ]


def trait(deployable: dict[str, Any], key: str) -> str:
    value: str = deployable['attributes'][key]
    return value


def arqs_of(sandbox: stack.Sandbox, server_id: str) -> list[dict[str, Any]]:
    arqs: list[dict[str, Any]] = sandbox.cyborg().get(
        '/accelerator_requests', params={'instance': server_id}
    )['arqs']
    return arqs


def allocations_of(sandbox: stack.Sandbox, consumer: str) -> dict[str, Any]:
    answer: dict[str, Any] = sandbox.placement().get(
        '/allocations/%s' % consumer
    )
    return answer


def provider_tree(
    placement: clients.JsonClient, root_uuid: str
) -> dict[str, dict[str, Any]]:
    answer = placement.get(
        '/resource_providers', params={'in_tree': root_uuid}
    )
    return {rp['uuid']: rp for rp in answer['resource_providers']}


def processes_mentioning(text: str) -> list[int]:
    """PIDs of processes whose command line contains *text*."""
    found = []
    for proc in pathlib.Path('/proc').iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / 'cmdline').read_bytes().replace(b'\0', b' ')
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(proc.name))
    return found

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

"""Nova's scheduler path: request groups, allocation candidates, claims.

Device-profile groups become request groups as in nova 34
(``_CyborgClient.get_device_request_groups``): group *n* gets the
requester id ``device_profile_<n>``, which Nova also uses as the group's
suffix in the query (``resourcesdevice_profile_0=PGPU:1``,
``requireddevice_profile_0=CUSTOM_X``), and which names the group in the
candidates' ``mappings``. ``resources:``/``trait:`` keys count; ``accel:``
keys are skipped. The flavor's own resources form the unsuffixed group.
With two or more numbered groups and at most one from the flavor, Nova
defaults ``group_policy`` to ``none``; a server with a device profile
also requires ``COMPUTE_ACCELERATORS`` on the root provider.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from orionx_cyborg.sandbox import clients

LOG = logging.getLogger(__name__)

XS_KEYPAT = re.compile(r'^(resources|trait)([a-zA-Z0-9_-]{1,64})?:(.*)$')
ACCELERATORS_TRAIT = 'COMPUTE_ACCELERATORS'
DEVICE_PROFILE_SPEC = 'accel:device_profile'
MAX_CANDIDATES = 1000
NO_VALID_HOST = (
    'No valid host was found. There are not enough hosts available.'
)


class NoValidHost(Exception):
    pass


@dataclasses.dataclass
class RequestGroup:
    requester_id: str | None = None
    resources: dict[str, int] = dataclasses.field(default_factory=dict)
    required: set[str] = dataclasses.field(default_factory=set)
    forbidden: set[str] = dataclasses.field(default_factory=set)

    def add(self, kind: str, name: str, value: str) -> None:
        if kind == 'resources':
            amount = int(value)
            if amount:
                self.resources[name] = self.resources.get(name, 0) + amount
        elif value == 'required':
            self.required.add(name)
        elif value == 'forbidden':
            self.forbidden.add(name)

    def query_params(self) -> list[tuple[str, str]]:
        suffix = self.requester_id or ''
        params = []
        if self.resources:
            params.append(
                (
                    'resources' + suffix,
                    ','.join(
                        '%s:%d' % item
                        for item in sorted(self.resources.items())
                    ),
                )
            )
        traits = sorted(self.required) + [
            '!' + t for t in sorted(self.forbidden)
        ]
        if traits:
            params.append(('required' + suffix, ','.join(traits)))
        return params


def device_profile_group_id(requester_id: str) -> int | None:
    prefix = 'device_profile_'
    if requester_id.startswith(prefix):
        return int(requester_id[len(prefix) :])
    return None


def device_request_groups(
    dp_groups: Iterable[Mapping[str, str]],
) -> list[RequestGroup]:
    groups = []
    for index, dp_group in enumerate(dp_groups):
        group = RequestGroup(requester_id='device_profile_%d' % index)
        for key, value in dp_group.items():
            match = XS_KEYPAT.match(key)
            if not match:
                continue  # accel:* keys are for Cyborg, not Placement
            kind, _suffix, name = match.groups()
            group.add(kind, name, str(value))
        groups.append(group)
    return groups


@dataclasses.dataclass
class ResourceRequest:
    groups: list[RequestGroup]
    group_policy: str | None = None
    root_required: set[str] = dataclasses.field(default_factory=set)

    def query_params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = [('limit', str(MAX_CANDIDATES))]
        if self.group_policy:
            params.append(('group_policy', self.group_policy))
        if self.root_required:
            params.append(
                ('root_required', ','.join(sorted(self.root_required)))
            )
        for group in self.groups:
            params.extend(group.query_params())
        return sorted(params)


def resource_request(
    flavor_resources: Mapping[str, int],
    extra_specs: Mapping[str, str],
    dp_groups: Iterable[Mapping[str, str]] = (),
) -> ResourceRequest:
    """What Nova asks Placement for, for one server of a flavor."""
    flavor_groups: dict[str | None, RequestGroup] = {
        None: RequestGroup(
            resources={
                rc: amount for rc, amount in flavor_resources.items() if amount
            }
        )
    }
    for key, value in extra_specs.items():
        match = XS_KEYPAT.match(key)
        if match:
            kind, suffix, name = match.groups()
            group = flavor_groups.setdefault(
                suffix, RequestGroup(requester_id=suffix)
            )
            group.add(kind, name, value)
    device_groups = device_request_groups(dp_groups)
    request = ResourceRequest(
        groups=list(flavor_groups.values()) + device_groups,
        group_policy=extra_specs.get('group_policy'),
    )
    if device_groups:
        request.root_required.add(ACCELERATORS_TRAIT)
    numbered_from_flavor = len([s for s in flavor_groups if s is not None])
    numbered = numbered_from_flavor + len(device_groups)
    if (
        numbered >= 2
        and not request.group_policy
        and (numbered_from_flavor <= 1)
    ):
        request.group_policy = 'none'
    return request


@dataclasses.dataclass(frozen=True)
class Selection:
    """A host and the allocation request claimed on it."""

    host: str
    compute_node_uuid: str
    allocation_request: Mapping[str, Any]

    @property
    def mappings(self) -> Mapping[str, list[str]]:
        mappings: Mapping[str, list[str]] = self.allocation_request.get(
            'mappings', {}
        )
        return mappings


class Scheduler:
    """Nova's scheduler, reduced to what Placement decides.

    Candidates are tried in Placement's order (no weighers); a requested
    host narrows them, an excluded host (evacuate) removes its own.
    """

    def __init__(
        self,
        placement: clients.JsonClient,
        compute_nodes: Mapping[str, str],
    ) -> None:
        self.placement = placement
        self.host_by_node = {
            uuid: host for host, uuid in compute_nodes.items()
        }

    def candidates(
        self, request: ResourceRequest
    ) -> list[tuple[str, Mapping[str, Any]]]:
        try:
            answer = self.placement.get(
                '/allocation_candidates', params=request.query_params()
            )
        except clients.ApiError as err:
            # Nova's report client logs any error answer (an unknown
            # trait, say) and the scheduler finds no valid host.
            LOG.error(
                'Failed to retrieve allocation candidates from placement '
                'API: %s',
                err,
            )
            return []
        summaries = answer['provider_summaries']
        result = []
        for alloc_req in answer['allocation_requests']:
            roots = {
                summaries[rp]['root_provider_uuid']
                for rp in alloc_req['allocations']
            }
            hosts = [
                self.host_by_node[r] for r in roots if r in self.host_by_node
            ]
            if len(hosts) == 1 and len(roots) == 1:
                result.append((hosts[0], alloc_req))
        return result

    def select_and_claim(
        self,
        consumer: str,
        request: ResourceRequest,
        project_id: str,
        user_id: str,
        requested_host: str | None = None,
        excluded_hosts: Iterable[str] = (),
        consumer_generation: int | None = None,
    ) -> Selection:
        excluded = set(excluded_hosts)
        for host, alloc_req in self.candidates(request):
            if host in excluded:
                continue
            if requested_host and host != requested_host:
                continue
            if self.claim(
                consumer, alloc_req, project_id, user_id, consumer_generation
            ):
                node = next(
                    u for u, h in self.host_by_node.items() if h == host
                )
                return Selection(host, node, alloc_req)
        raise NoValidHost(NO_VALID_HOST)

    def claim(
        self,
        consumer: str,
        alloc_req: Mapping[str, Any],
        project_id: str,
        user_id: str,
        consumer_generation: int | None = None,
    ) -> bool:
        """PUT /allocations as Nova's report client; False on conflict."""
        body = {
            'allocations': alloc_req['allocations'],
            'mappings': alloc_req.get('mappings', {}),
            'project_id': project_id,
            'user_id': user_id,
            'consumer_generation': consumer_generation,
            'consumer_type': 'INSTANCE',
        }
        try:
            self.placement.put('/allocations/%s' % consumer, body)
        except clients.ApiError as err:
            if err.status != 409:
                raise
            LOG.info('Claim for %s lost a race: %s', consumer, err)
            return False
        return True

    def consumer_generation(self, consumer: str) -> int | None:
        answer = self.placement.get('/allocations/%s' % consumer)
        generation: int | None = answer.get('consumer_generation')
        return generation

    def remove_allocations(self, consumer: str) -> None:
        self.placement.request(
            'DELETE', '/allocations/%s' % consumer, expect=(204, 404)
        )

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

"""Cyborg's report and a cloud in memory, for the profile sync's tests.

The report is built with the driver's own naming (resources), as Cyborg's
API shows it (orionx_cyborg.clients models); the cloud keeps profiles and
flavors in dicts and records every write.
"""

import uuid

from orionx_cyborg import clients
from orionx_cyborg import resources
from orionx_cyborg.profiles import inventory
from orionx_cyborg.profiles import state


class Report:
    """Devices and deployables of a few hosts."""

    def __init__(self):
        self.devices = []
        self.deployables = []

    def _gpu(self, host, address, model, product):
        prefix = resources.deployable_name(host, address)
        self.devices.append(
            clients.Device(
                uuid=str(uuid.uuid4()),
                hostname=host,
                vendor='10de',
                model='NVIDIA %s' % model,
                std_board_info={
                    'uuid': 'GPU-%s-%s' % (host, address),
                    'pci_address': address,
                    'deployable_prefix': prefix,
                },
            )
        )
        traits = {
            'OWNER_CYBORG',
            'CUSTOM_GPU_NVIDIA',
            'CUSTOM_GPU_MODEL_%s' % resources.model_name_part(model),
            'CUSTOM_GPU_PRODUCT_ID_%s' % product,
        }
        return prefix, traits

    def _add(self, name, rc, total, traits):
        self.deployables.append(
            clients.Deployable(
                uuid=str(uuid.uuid4()),
                name=name,
                rp_uuid=str(uuid.uuid4()),
                num_accelerators=total,
                driver_name=resources.DRIVER_NAME,
                resource_class=rc,
                traits=frozenset(traits),
            )
        )

    def whole(
        self, host, address, model='H200', product='2335', unhealthy=False
    ):
        prefix, traits = self._gpu(host, address, model, product)
        if unhealthy:
            traits.add(resources.TRAIT_UNHEALTHY)
        self._add(prefix + '_PGPU', resources.RC_PGPU, 1, traits)
        return self

    def vgpu(
        self, host, address, vgpu_type, instances, model='H200', product='2335'
    ):
        prefix, traits = self._gpu(host, address, model, product)
        part = resources.model_name_part(vgpu_type)
        traits.add('CUSTOM_NVIDIA_VGPU_%s' % part)
        self._add(
            '%s_VGPU_%s' % (prefix, part), resources.RC_VGPU, instances, traits
        )
        return self

    def member(
        self,
        host,
        address,
        memory,
        compute=100,
        pool='default',
        model='H200',
        product='2335',
        unhealthy=False,
    ):
        prefix, traits = self._gpu(host, address, model, product)
        traits.add('CUSTOM_ORIONX_POOL_%s' % pool.upper())
        if unhealthy:
            traits.add(resources.TRAIT_UNHEALTHY)
        self._add(prefix + '_GMEM', resources.RC_POOL_MEMORY, memory, traits)
        self._add(
            prefix + '_COMPUTE', resources.RC_POOL_COMPUTE, compute, traits
        )
        return self

    def entitlement(self, host, total, pool='default'):
        self._add(
            resources.deployable_name(host, 'ORIONX_VGPU', pool),
            resources.RC_ENTITLEMENT,
            total,
            {'OWNER_CYBORG', 'CUSTOM_ORIONX_POOL_%s' % pool.upper()},
        )
        return self

    def inventory(self, pools=('default',)):
        return inventory.Inventory.from_cyborg(
            self.devices, self.deployables, pools
        )


def fleet():
    """Two GPU servers and a host without GPUs."""
    report = Report()
    for address in ('0000:18:00.0', '0000:2a:00.0'):
        report.whole('gpu1', address)
    report.vgpu('gpu1', '0000:3a:00.0', 'NVIDIA H200X-35C', 4)
    report.member('gpu1', '0000:9a:00.0', 142000)
    report.member('gpu2', '0000:ab:00.0', 45000, model='L40S', product='26B9')
    report.whole(
        'gpu2', '0000:18:00.0', model='A100-SXM4-80GB', product='20B2'
    )
    for host in ('gpu1', 'gpu2', 'cpu1'):
        report.entitlement(host, 4)
    return report


class FakeCloud:
    """Device profiles and flavors in memory; writes are recorded."""

    def __init__(self, report=None):
        self.report = report or fleet()
        self.profiles = {}
        self.flavors = {}
        self.usage_ = {}
        self.writes = []
        self.usage_calls = 0
        self.fail_on = None
        self.trait_kept = False

    def add_profile(self, name, groups, description=''):
        profile = state.DeviceProfile(
            str(uuid.uuid4()),
            name,
            tuple(dict(g) for g in groups),
            description,
        )
        self.profiles[profile.uuid] = profile
        return profile

    def add_flavor(self, name, extra_specs, vcpus=1, ram=512, disk=1):
        flavor = state.Flavor(
            str(uuid.uuid4()),
            name,
            vcpus,
            ram,
            disk,
            0,
            0,
            True,
            dict(extra_specs),
        )
        self.flavors[flavor.id] = flavor
        return flavor

    def profile_named(self, name):
        for profile in self.profiles.values():
            if profile.name == name:
                return profile
        return None

    def flavor_named(self, name):
        for flavor in self.flavors.values():
            if flavor.name == name:
                return flavor
        return None

    # CloudApi ----------------------------------------------------------

    def state(self):
        return state.CloudState(
            tuple(self.profiles.values()),
            tuple(self.flavors.values()),
            trait_kept=self.trait_kept,
        )

    def keep_trait(self):
        self._write('keep_trait')
        self.trait_kept = True

    def inventory(self, pools):
        return self.report.inventory(pools)

    def usage(self):
        self.usage_calls += 1
        return dict(self.usage_)

    def _write(self, *what):
        if self.fail_on is not None and what[:2] == self.fail_on:
            raise state_error(what)
        self.writes.append(what)

    def create_profile(self, name, groups, description):
        self._write('create_profile', name)
        if self.profile_named(name):
            raise AssertionError('duplicate profile %s' % name)
        self.add_profile(name, groups, description)

    def delete_profile(self, uuid_):
        name = self.profiles[uuid_].name
        self._write('delete_profile', name)
        del self.profiles[uuid_]

    def create_flavor(self, flavor, extra_specs):
        self._write('create_flavor', flavor.name)
        if self.flavor_named(flavor.name):
            raise AssertionError('duplicate flavor %s' % flavor.name)
        return self.add_flavor(
            flavor.name, extra_specs, flavor.vcpus, flavor.ram, flavor.disk
        ).id

    def delete_flavor(self, flavor_id):
        self._write('delete_flavor', self.flavors[flavor_id].name)
        del self.flavors[flavor_id]

    def update_flavor_specs(self, flavor_id, set_specs, unset):
        flavor = self.flavors[flavor_id]
        self._write('update_flavor', flavor.name)
        specs = dict(flavor.extra_specs)
        specs.update(set_specs)
        for key in unset:
            del specs[key]
        self.flavors[flavor_id] = state.Flavor(
            flavor.id,
            flavor.name,
            flavor.vcpus,
            flavor.ram,
            flavor.disk,
            flavor.ephemeral,
            flavor.swap,
            flavor.is_public,
            specs,
        )


def state_error(what):
    from orionx_cyborg.profiles import cloud

    return cloud.CloudError(action=' '.join(what), error='HTTP 500')

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

"""A small Cyborg driver for sandbox hosts: whole GPUs, vGPUs, remotes.

It reports, per host and from configuration only, the three attach handle
types that Nova treats differently, so the Nova stand-in and the tests can
exercise each path before ``orionx_gpu_driver`` is hosted:

* ``pci:<bus>``: a whole GPU, resource class ``PGPU``, one ``PCI`` handle;
* ``mdev:<bus>:<type>:<count>``: a vGPU-capable GPU, resource class
  ``VGPU``, ``count`` ``MDEV`` handles; the mdev type is materialised in
  the host's simulated sysfs, where the agent creates mdevs at bind;
* ``remote:<count>``: a remote (pooled) vGPU entitlement, resource class
  ``CUSTOM_SANDBOX_REMOTE``, ``count`` ``TEST_PCI`` handles (ignored by
  Nova's virt driver: nothing local is attached).

Options (group ``[sandbox_demo]``): ``devices`` (the list above) and
``sysfs_root``. Deployable names embed the host, as Cyborg requires.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from cyborg.common import constants
from cyborg.objects.driver_objects import driver_attach_handle
from cyborg.objects.driver_objects import driver_attribute
from cyborg.objects.driver_objects import driver_controlpath_id
from cyborg.objects.driver_objects import driver_deployable
from cyborg.objects.driver_objects import driver_device
from oslo_config import cfg

from orionx_cyborg.sandbox import sysfs

GROUP = 'sandbox_demo'
VENDOR_ID = '10de'
PGPU_TRAIT = 'CUSTOM_SANDBOX_PGPU'
VGPU_TRAIT = 'CUSTOM_SANDBOX_VGPU'
REMOTE_RC = 'CUSTOM_SANDBOX_REMOTE'
REMOTE_TRAIT = 'CUSTOM_SANDBOX_REMOTE'

_OPTS = [
    cfg.ListOpt('devices', default=[], help='Device specs of this host.'),
    cfg.StrOpt('sysfs_root', default='/sys', help='Simulated sysfs root.'),
]


@dataclasses.dataclass(frozen=True)
class DemoDevice:
    kind: str
    bus: str = '00'
    mdev_type: str = ''
    count: int = 1

    @property
    def pci_address(self) -> str:
        return '0000:%s:00.0' % self.bus

    def slot(self) -> dict[str, str]:
        return {
            'domain': '0000',
            'bus': self.bus,
            'device': '00',
            'function': '0',
        }


def parse_device(spec: str) -> DemoDevice:
    """``pci:3b``, ``mdev:86:nvidia-1000:4`` or ``remote:4``."""
    parts = spec.strip().split(':')
    kind = parts[0]
    if kind == 'pci' and len(parts) == 2:
        return DemoDevice('pci', bus=parts[1])
    if kind == 'mdev' and len(parts) == 4:
        return DemoDevice(
            'mdev', bus=parts[1], mdev_type=parts[2], count=int(parts[3])
        )
    if kind == 'remote' and len(parts) == 2:
        return DemoDevice('remote', count=int(parts[1]))
    raise ValueError('bad sandbox_demo device spec: %r' % spec)


class SandboxDemoDriver:
    """Implements Cyborg's driver interface (discover, update, get_stats).

    Only the sandbox's Cyborg process imports this module.
    """

    def __init__(
        self, conf: cfg.ConfigOpts | None = None, host: str | None = None
    ) -> None:
        self.conf = conf if conf is not None else cfg.ConfigOpts()
        self.conf.register_opts(_OPTS, group=GROUP)
        self.host = host or 'localhost'
        self.devices = [
            parse_device(spec) for spec in self.conf[GROUP].devices
        ]
        self._materialise_sysfs()

    def _materialise_sysfs(self) -> None:
        for device in self.devices:
            if device.kind == 'mdev':
                sysfs.materialise_mdev_type(
                    self.conf[GROUP].sysfs_root,
                    device.pci_address,
                    device.mdev_type,
                    device.count,
                    'SANDBOX-%s' % device.mdev_type,
                )

    def discover(self) -> list[Any]:
        return [self._driver_device(device) for device in self.devices]

    def update(self, control_path: Any, image_path: Any) -> bool:
        return True

    def get_stats(self) -> dict[str, Any]:
        return {}

    def _driver_device(self, device: DemoDevice) -> Any:
        cpid = driver_controlpath_id.DriverControlPathID()
        cpid.cpid_type = 'PCI'
        cpid.cpid_info = _dumps(device.slot())
        result = driver_device.DriverDevice()
        result.vendor = VENDOR_ID
        result.model = 'SANDBOX-%s' % device.kind.upper()
        result.type = constants.DEVICE_GPU
        result.std_board_info = _dumps({'kind': device.kind})
        result.vendor_board_info = _dumps({'host': self.host})
        result.stub = False
        result.controlpath_id = cpid
        result.deployable_list = [self._deployable(device)]
        return result

    def _deployable(self, device: DemoDevice) -> Any:
        rc, trait, handles = {
            'pci': ('PGPU', PGPU_TRAIT, [self._handle('PCI', device.slot())]),
            'mdev': ('VGPU', VGPU_TRAIT, self._mdev_handles(device)),
            'remote': (REMOTE_RC, REMOTE_TRAIT, self._remote_handles(device)),
        }[device.kind]
        dep = driver_deployable.DriverDeployable()
        dep.name = '%s_%s_%s' % (self.host, device.kind, device.bus)
        dep.driver_name = 'SANDBOX_DEMO'
        dep.num_accelerators = len(handles)
        dep.attach_handle_list = handles
        dep.attribute_list = [
            _attribute('rc', rc),
            _attribute('trait0', trait),
        ]
        return dep

    def _mdev_handles(self, device: DemoDevice) -> list[Any]:
        return [
            self._handle(
                'MDEV',
                dict(
                    device.slot(),
                    asked_type=device.mdev_type,
                    vgpu_mark='%s_%d' % (device.mdev_type, index),
                ),
            )
            for index in range(device.count)
        ]

    def _remote_handles(self, device: DemoDevice) -> list[Any]:
        return [
            self._handle('TEST_PCI', {'remote': self.host, 'slot': str(i)})
            for i in range(device.count)
        ]

    @staticmethod
    def _handle(attach_type: str, info: dict[str, str]) -> Any:
        handle = driver_attach_handle.DriverAttachHandle()
        handle.attach_type = attach_type
        handle.in_use = False
        handle.attach_info = _dumps(info)
        return handle


def _attribute(key: str, value: str) -> Any:
    attribute = driver_attribute.DriverAttribute()
    attribute.key = key
    attribute.value = value
    return attribute


def _dumps(value: dict[str, str]) -> str:
    # Sorted keys keep attach_info and cpid_info stable from one report to
    # the next: Cyborg diffs handles and devices by these strings.
    return json.dumps(value, sort_keys=True)

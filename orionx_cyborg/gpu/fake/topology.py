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

"""Simulated hosts: which GPUs a host has and what state they are in.

A :class:`SimulatedHost` drives the fake NVML library
(:mod:`orionx_cyborg.gpu.fake.library`) and the simulated sysfs tree
(:mod:`orionx_cyborg.gpu.fake.sysfs`). Hosts are declared in YAML (the
``[orionx_gpu] fake_topology`` file) or taken from :data:`BUILTIN_HOSTS`::

    driver_version: "580.95.05"
    vgpu_manager: true        # the NVIDIA vGPU manager runs (HOST_VGPU)
    nvml: ok                  # ok | library-missing | driver-not-loaded
                              #    | failing
    gpus:
      - model: H200-SXM5-141GB
        count: 4              # four such GPUs at the next free addresses
      - model: H200-SXM5-141GB
        pci_address: "0000:9a:00.0"
        vf_vgpu_types: ["NVIDIA H200X-35C", "NVIDIA H200X-35C"]
      - model: H200-SXM5-141GB
        mig_devices: ["3g.71gb", "3g.71gb"]
        lost: true            # NVML answers GPU_IS_LOST for it
        driver: vfio-pci      # assigned to a VM: NVML does not see it
        ecc_uncorrected: 2
        xid_events: [79]
        errors: {nvmlDeviceGetUUID: GPU_IS_LOST}
    # Other vendors, each behind its own simulated library:
    amd_gpus: [{model: MI300X, count: 2, compute_partition: CPX},
               {model: MI300X, driver: gim, sriov_vfs: 8}]   # MxGPU host
    ascend_cards: [{model: Ascend910B3, count: 2}]
    mthreads_gpus: [{model: MTT-S4000, count: 2}]
    vendor_library_states: {dcmi: no-permission}   # amdsmi, dcmi, mtml
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import uuid
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

import yaml

from orionx_cyborg.gpu import models
from orionx_cyborg.gpu.fake import catalogue

NVML_STATES = ('ok', 'library-missing', 'driver-not-loaded', 'failing')
HOST_DRIVERS = ('nvidia', 'vfio-pci')

# Bus numbers of the eight GPUs of an HGX H200 board, in NVML index order;
# larger simulated hosts continue in further PCI domains.
_HGX_BUSES = (0x18, 0x2A, 0x3A, 0x5D, 0x9A, 0xAB, 0xBA, 0xDB)


def default_address(position: int) -> str:
    """The PCI address of the *position*-th GPU of a simulated host."""
    domain, slot = divmod(position, len(_HGX_BUSES))
    return '%04x:%02x:00.0' % (domain, _HGX_BUSES[slot])


def vf_address(pf_address: str, vf_index: int) -> str:
    """Address of virtual function *vf_index* of a GPU (functions 4 on)."""
    prefix, _, _ = pf_address.rpartition(':')
    offset = 4 + vf_index
    device, function = divmod(offset, 8)
    return '%s:%02x.%d' % (prefix, device, function)


def derived_uuid(host: str, pci_address: str) -> str:
    """A stable GPU UUID for a simulated GPU."""
    seed = 'orionx-cyborg-simulated-gpu:%s:%s' % (host, pci_address)
    return 'GPU-%s' % uuid.uuid5(uuid.NAMESPACE_URL, seed)


@dataclasses.dataclass(frozen=True)
class SimulatedGpu:
    model: catalogue.GpuModel
    pci_address: str
    uuid: str
    mig_devices: tuple[str, ...] = ()
    """MIG profiles of the instantiated MIG devices; MIG mode is on when
    this is not empty or ``mig_enabled`` is set."""
    mig_enabled: bool = False
    vf_vgpu_types: tuple[str, ...] = ()
    """SR-IOV vGPU hosts: the vGPU type name each configured virtual
    function has in nvidia/current_vgpu_type."""
    mdev_instances: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """mdev vGPU hosts: anonymous created mediated devices per vGPU type
    name, on the GPU itself."""
    mdevs: Mapping[str, Mapping[str, str]] = dataclasses.field(
        default_factory=dict
    )
    """mdev vGPU hosts: mediated devices by UUID, each
    ``{'type': <vGPU type name or nvidia-<id>>, 'parent': <PCI address>}``
    (the GPU or one of its virtual functions), as Cyborg's agent creates
    them at bind time."""
    driver: str = 'nvidia'
    lost: bool = False
    ecc_uncorrected: int = 0
    remap_failure: bool = False
    xid_events: tuple[int, ...] = ()
    errors: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """NVML symbol -> NVML error name (``GPU_IS_LOST``) for this GPU."""

    @property
    def mig_mode(self) -> bool:
        return self.mig_enabled or bool(self.mig_devices)

    @property
    def visible_to_nvml(self) -> bool:
        """A GPU bound to vfio-pci (assigned to a VM) is not in NVML."""
        return self.driver == 'nvidia'


@dataclasses.dataclass(frozen=True)
class SimulatedHost:
    name: str
    gpus: tuple[SimulatedGpu, ...] = ()
    driver_version: str = '580.95.05'
    vgpu_manager: bool = False
    nvml: str = 'ok'
    errors: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """NVML symbol -> NVML error name for every call of that symbol."""
    amd_gpus: tuple[Mapping[str, Any], ...] = ()
    """AMD GPUs, as :func:`orionx_cyborg.gpu.fake.amd.amd_host` takes them."""
    ascend_cards: tuple[Mapping[str, Any], ...] = ()
    """Ascend cards (:func:`orionx_cyborg.gpu.fake.ascend.ascend_host`)."""
    mthreads_gpus: tuple[Mapping[str, Any], ...] = ()
    """Moore Threads GPUs
    (:func:`orionx_cyborg.gpu.fake.mthreads.mthreads_host`)."""
    vendor_library_states: Mapping[str, str] = dataclasses.field(
        default_factory=dict
    )
    """State of another vendor's simulated library by seam name
    (``amdsmi``, ``dcmi``, ``mtml``): ``ok`` or the failure it simulates
    (``driver-not-loaded``, ``no-permission``)."""

    def replace_gpu(self, pci_address: str, **changes: Any) -> SimulatedHost:
        """A copy of the host with one GPU changed (for tests)."""
        gpus = tuple(
            dataclasses.replace(gpu, **changes)
            if gpu.pci_address == pci_address
            else gpu
            for gpu in self.gpus
        )
        if gpus == self.gpus and not any(
            gpu.pci_address == pci_address for gpu in self.gpus
        ):
            raise KeyError('no simulated GPU at %s' % pci_address)
        return dataclasses.replace(self, gpus=gpus)


class TopologyError(ValueError):
    """A topology file or mapping that does not describe a host."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TopologyError(message)


def _gpu_from_mapping(
    host: str, item: Mapping[str, Any], address: str
) -> SimulatedGpu:
    _require(
        models.PciAddress.is_valid(address),
        '%r is not a PCI address (quote addresses in YAML: "0000:18:00.0")'
        % address,
    )
    address = str(models.PciAddress.parse(address))
    known = {field.name for field in dataclasses.fields(SimulatedGpu)}
    unknown = set(item) - known - {'count'}
    _require(not unknown, 'unknown GPU keys: %s' % ', '.join(sorted(unknown)))
    try:
        model = catalogue.get_model(str(item['model']))
    except KeyError as err:
        raise TopologyError(str(err)) from err
    driver = str(item.get('driver', 'nvidia'))
    _require(
        driver in HOST_DRIVERS,
        'driver must be one of %s' % (', '.join(HOST_DRIVERS)),
    )
    gpu = SimulatedGpu(
        model=model,
        pci_address=address,
        uuid=str(item.get('uuid') or derived_uuid(host, address)),
        mig_devices=tuple(str(p) for p in item.get('mig_devices', ())),
        mig_enabled=bool(item.get('mig_enabled', False)),
        vf_vgpu_types=tuple(str(t) for t in item.get('vf_vgpu_types', ())),
        mdev_instances={
            str(k): int(v) for k, v in item.get('mdev_instances', {}).items()
        },
        mdevs={
            str(uuid_): {
                'type': str(record['type']),
                'parent': str(record['parent']),
            }
            for uuid_, record in item.get('mdevs', {}).items()
        },
        driver=driver,
        lost=bool(item.get('lost', False)),
        ecc_uncorrected=int(item.get('ecc_uncorrected', 0)),
        remap_failure=bool(item.get('remap_failure', False)),
        xid_events=tuple(int(x) for x in item.get('xid_events', ())),
        errors={str(k): str(v) for k, v in item.get('errors', {}).items()},
    )
    _validate_gpu(gpu)
    return gpu


def _validate_gpu(gpu: SimulatedGpu) -> None:
    model = gpu.model
    for profile in gpu.mig_devices:
        try:
            model.mig_profile(profile)
        except KeyError as err:
            raise TopologyError(str(err)) from err
    mdev_types = [record['type'] for record in gpu.mdevs.values()]
    for type_name in (
        list(gpu.vf_vgpu_types) + list(gpu.mdev_instances) + mdev_types
    ):
        try:
            model.vgpu_type(vgpu_type_key(type_name))
        except KeyError as err:
            raise TopologyError(str(err)) from err
    _require(
        len(gpu.vf_vgpu_types) <= model.max_virtual_functions,
        '%s has at most %d virtual functions'
        % (model.key, model.max_virtual_functions),
    )


def vgpu_type_key(name: str) -> str | int:
    """A type name, or the id of an mdev type name (``nvidia-<id>``)."""
    prefix = 'nvidia-'
    if name.startswith(prefix) and name[len(prefix) :].isdigit():
        return int(name[len(prefix) :])
    return name


def with_mdev(
    host: SimulatedHost,
    gpu_address: str,
    mdev_uuid: str,
    vgpu_type: str,
    parent: str,
) -> SimulatedHost:
    """*host* with one more mediated device on one of its GPUs."""
    gpu = _gpu_at(host, gpu_address)
    mdevs = dict(gpu.mdevs)
    mdevs[mdev_uuid] = {'type': vgpu_type, 'parent': parent}
    return host.replace_gpu(gpu_address, mdevs=mdevs)


def without_mdev(host: SimulatedHost, mdev_uuid: str) -> SimulatedHost:
    """*host* without the mediated device *mdev_uuid* (if it had it)."""
    for gpu in host.gpus:
        if mdev_uuid in gpu.mdevs:
            mdevs = {k: v for k, v in gpu.mdevs.items() if k != mdev_uuid}
            return host.replace_gpu(gpu.pci_address, mdevs=mdevs)
    return host


def gpu_of_function(host: SimulatedHost, address: str) -> str | None:
    """The GPU whose PCI function (itself or a VF) is at *address*."""
    for gpu in host.gpus:
        if gpu.pci_address == address:
            return gpu.pci_address
        for number in range(gpu.model.max_virtual_functions):
            if vf_address(gpu.pci_address, number) == address:
                return gpu.pci_address
    return None


def _gpu_at(host: SimulatedHost, address: str) -> SimulatedGpu:
    for gpu in host.gpus:
        if gpu.pci_address == address:
            return gpu
    raise KeyError('no simulated GPU at %s' % address)


def host_from_mapping(name: str, data: Mapping[str, Any]) -> SimulatedHost:
    """Build a host from its YAML mapping.

    :raises TopologyError: for unknown keys, models, profiles or values.
    """
    _require(isinstance(data, Mapping), 'a topology is a mapping')
    known = {
        'host',
        'driver_version',
        'vgpu_manager',
        'nvml',
        'gpus',
        'errors',
        *_OTHER_VENDORS,
        'vendor_library_states',
    }
    unknown = set(data) - known
    _require(not unknown, 'unknown keys: %s' % ', '.join(sorted(unknown)))
    name = str(data.get('host') or name)
    nvml = str(data.get('nvml', 'ok'))
    _require(
        nvml in NVML_STATES,
        'nvml must be one of %s' % (', '.join(NVML_STATES)),
    )
    gpus = _expand_gpus(name, data.get('gpus') or [])
    addresses = [gpu.pci_address for gpu in gpus]
    _require(
        len(set(addresses)) == len(addresses), 'duplicate GPU PCI addresses'
    )
    return SimulatedHost(
        name=name,
        gpus=tuple(gpus),
        driver_version=str(data.get('driver_version', '580.95.05')),
        vgpu_manager=bool(data.get('vgpu_manager', False)),
        nvml=nvml,
        errors={str(k): str(v) for k, v in (data.get('errors') or {}).items()},
        **{key: _other_vendor(key, data.get(key)) for key in _OTHER_VENDORS},
        vendor_library_states={
            str(k): str(v)
            for k, v in (data.get('vendor_library_states') or {}).items()
        },
    )


# Topology keys of other vendors, and the catalogue each names models of.
_OTHER_VENDORS = ('amd_gpus', 'ascend_cards', 'mthreads_gpus')


def _other_vendor(key: str, items: Any) -> tuple[Mapping[str, Any], ...]:
    from orionx_cyborg.gpu.fake import amd
    from orionx_cyborg.gpu.fake import ascend
    from orionx_cyborg.gpu.fake import mthreads

    catalogues: dict[str, Mapping[str, object]] = {
        'amd_gpus': amd.MODELS,
        'ascend_cards': ascend.MODELS,
        'mthreads_gpus': mthreads.MODELS,
    }
    known = catalogues[key]
    _require(
        isinstance(items, list | tuple | type(None)), '%s is a list' % key
    )
    result = []
    for item in items or ():
        _require(
            isinstance(item, Mapping) and item.get('model') in known,
            '%s: each item needs a model among %s'
            % (key, ', '.join(sorted(known))),
        )
        result.append(dict(item))
    if key == 'amd_gpus':
        try:
            amd.amd_host(*result)
        except (TypeError, ValueError) as err:
            raise TopologyError('amd_gpus: %s' % err) from err
    return tuple(result)


def _expand_gpus(
    host: str, items: Iterable[Mapping[str, Any]]
) -> list[SimulatedGpu]:
    explicit = {str(i['pci_address']) for i in items if 'pci_address' in i}
    gpus: list[SimulatedGpu] = []
    position = 0
    for item in items:
        _require(isinstance(item, Mapping), 'each GPU is a mapping')
        for _ in range(int(item.get('count', 1))):
            address = item.get('pci_address')
            if address is None:
                while default_address(position) in explicit:
                    position += 1
                address = default_address(position)
                position += 1
            gpus.append(_gpu_from_mapping(host, item, str(address)))
    return gpus


def host_to_mapping(host: SimulatedHost) -> dict[str, Any]:
    """The YAML mapping of *host* (the inverse of host_from_mapping)."""
    gpus = []
    for gpu in host.gpus:
        item: dict[str, Any] = {
            'model': gpu.model.key,
            'pci_address': gpu.pci_address,
            'uuid': gpu.uuid,
        }
        defaults = SimulatedGpu(gpu.model, '', '')
        for field in dataclasses.fields(SimulatedGpu):
            if field.name in ('model', 'pci_address', 'uuid'):
                continue
            value = getattr(gpu, field.name)
            if value != getattr(defaults, field.name):
                item[field.name] = (
                    list(value)
                    if isinstance(value, tuple)
                    else dict(value)
                    if isinstance(value, Mapping)
                    else value
                )
        gpus.append(item)
    data: dict[str, Any] = {
        'host': host.name,
        'driver_version': host.driver_version,
        'vgpu_manager': host.vgpu_manager,
        'nvml': host.nvml,
        'gpus': gpus,
    }
    if host.errors:
        data['errors'] = dict(host.errors)
    for key in _OTHER_VENDORS:
        items = getattr(host, key)
        if items:
            data[key] = [dict(item) for item in items]
    if host.vendor_library_states:
        data['vendor_library_states'] = dict(host.vendor_library_states)
    return data


def dump(host: SimulatedHost, path: str) -> None:
    """Write *host* as a topology file, atomically (thread-safe)."""
    fd, tmp = tempfile.mkstemp(
        prefix='.%s.' % os.path.basename(path),
        dir=os.path.dirname(os.path.abspath(path)),
    )
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as stream:
            yaml.safe_dump(host_to_mapping(host), stream, sort_keys=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load(spec: str, host: str = 'localhost') -> SimulatedHost:
    """Load a topology: a built-in host name or the path of a YAML file.

    :raises TopologyError: if *spec* is neither, or the file is invalid.
    """
    if spec in BUILTIN_HOSTS:
        return host_from_mapping(host, BUILTIN_HOSTS[spec])
    try:
        with open(spec, encoding='utf-8') as stream:
            data = yaml.safe_load(stream) or {}
    except FileNotFoundError as err:
        raise TopologyError(
            '%s is neither a built-in simulated host (%s) nor a file'
            % (spec, ', '.join(sorted(BUILTIN_HOSTS)))
        ) from err
    except (OSError, yaml.YAMLError) as err:
        raise TopologyError('cannot read %s: %s' % (spec, err)) from err
    return host_from_mapping(host, data)


#: Built-in simulated hosts, by name.
BUILTIN_HOSTS: dict[str, dict[str, Any]] = {
    # An HGX H200 server with the vGPU manager: two GPUs carry SR-IOV
    # virtual functions configured with vGPU types, one runs MIG.
    'hgx-h200': {
        'vgpu_manager': True,
        'gpus': [
            {'model': 'H200-SXM5-141GB', 'count': 2},
            {
                'model': 'H200-SXM5-141GB',
                'vf_vgpu_types': ['NVIDIA H200X-35C'] * 4,
            },
            {
                'model': 'H200-SXM5-141GB',
                'vf_vgpu_types': ['NVIDIA H200X-70C'] * 2,
            },
            {'model': 'H200-SXM5-141GB', 'count': 3},
            {
                'model': 'H200-SXM5-141GB',
                'mig_devices': ['3g.71gb', '2g.35gb', '1g.18gb'],
            },
        ],
    },
    # An Ampere + Ada server: A100 80GB (mdev vGPU on virtual functions)
    # and L40S (SR-IOV vGPU).
    'hgx-a100-l40s': {
        'vgpu_manager': True,
        'gpus': [
            {'model': 'A100-SXM4-80GB', 'count': 4},
            {
                'model': 'L40S',
                'vf_vgpu_types': ['NVIDIA L40S-12C'] * 4,
            },
            {'model': 'L40S', 'count': 3},
        ],
    },
    # A small Turing box: mdev vGPU types on the GPU itself.
    't4-box': {
        'vgpu_manager': True,
        'gpus': [{'model': 'T4', 'count': 2}],
    },
    # An H100 server without the vGPU manager (bare-metal driver).
    'dgx-h100': {
        'gpus': [{'model': 'H100-SXM5-80GB', 'count': 8}],
    },
    # An A100 40GB server.
    'dgx-a100': {
        'gpus': [{'model': 'A100-SXM4-40GB', 'count': 8}],
    },
    # A compute host without GPUs or NVIDIA driver.
    'no-gpu': {'nvml': 'library-missing', 'gpus': []},
    # An AMD MxGPU host: GIM owns two MI300X, split into 8 VFs (CPX/NPS4)
    # and 1 VF; ROCm's amdgpu drives a third. No NVIDIA driver.
    'mxgpu': {
        'nvml': 'library-missing',
        'gpus': [],
        'amd_gpus': [
            {'model': 'MI300X', 'driver': 'gim', 'sriov_vfs': 8},
            {'model': 'MI300X', 'driver': 'gim', 'sriov_vfs': 1},
            {'model': 'MI300X'},
        ],
    },
    # One host, four vendors: 2x H200, 2x MI300X, 2x Ascend 910B3,
    # 2x MTT S4000.
    'mixed': {
        'gpus': [{'model': 'H200-SXM5-141GB', 'count': 2}],
        'amd_gpus': [{'model': 'MI300X', 'count': 2}],
        'ascend_cards': [{'model': 'Ascend910B3', 'count': 2}],
        'mthreads_gpus': [{'model': 'MTT-S4000', 'count': 2}],
    },
}

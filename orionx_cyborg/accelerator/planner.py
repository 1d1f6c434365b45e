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

"""From hardware facts and configuration to the report.

The planner does no I/O of its own: it gets the NVML inventory and the
settings, asks the ``describe_sysfs`` callback it was given for the sysfs
facts of a GPU in vgpu mode (the driver's callback reads sysfs; tests pass
a fake), and returns the devices to report and the warnings an operator
should read. Names, traits and attach handles are all derived here
(with the vocabulary of :mod:`orionx_cyborg.resources`), deterministically,
so the same hardware and configuration always give the same report (and
a steady agent cycle makes no Placement write).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping

from orionx_cyborg import resources
from orionx_cyborg.accelerator import settings as settings_mod
from orionx_cyborg.accelerator import spec
from orionx_cyborg.gpu import models
from orionx_cyborg.gpu import sysfs

Mode = settings_mod.Mode
SysfsLookup = Callable[
    [models.PciAddress, frozenset[str] | None], sysfs.PciFunctionState
]


def gpu_traits(gpu: models.HardwareGpu) -> dict[str, str]:
    """The traits every deployable of *gpu* carries, by attribute key."""
    kind = resources.device_kind(gpu.vendor_id)
    traits = {
        resources.OWNER_TRAIT_KEY: resources.TRAIT_OWNER,
        resources.VENDOR_TRAIT_KEY: resources.vendor_trait(gpu.vendor_id),
        resources.PRODUCT_TRAIT_KEY: resources.product_trait(
            gpu.pci_device_id, kind
        ),
        resources.MODEL_TRAIT_KEY: resources.model_trait(gpu.name, kind),
        resources.MEMORY_TRAIT_KEY: resources.memory_trait(
            gpu.memory_mib, kind
        ),
    }
    if gpu.compute_capability is not None:
        traits[resources.COMPUTE_CAPABILITY_TRAIT_KEY] = (
            resources.compute_capability_trait(
                gpu.compute_capability.major, gpu.compute_capability.minor
            )
        )
    if gpu.mig_enabled:
        traits[resources.MIG_TRAIT_KEY] = resources.TRAIT_MIG_ENABLED
    return traits


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the hardware and the configuration ask to report."""

    devices: tuple[spec.DeviceSpec, ...]
    warnings: tuple[str, ...]
    modes: Mapping[str, Mode]
    """Mode of every visible GPU, by PCI address."""
    conflicts: frozenset[str]
    """Addresses of GPUs matched by selectors of two modes."""


class Planner:
    """Builds the report of one host."""

    def __init__(
        self,
        host: str,
        settings: settings_mod.DriverSettings,
        describe_sysfs: SysfsLookup,
    ) -> None:
        self.host = host
        self.settings = settings
        self._describe_sysfs = describe_sysfs

    def plan(
        self,
        gpus: Iterable[models.HardwareGpu],
        unhealthy: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Plan:
        """Plan the report for *gpus*.

        :param unhealthy: extra unhealthy reasons by PCI address (sticky
            health events kept by the driver).
        """
        gpus = list(gpus)
        unhealthy = unhealthy or {}
        warnings: list[str] = []
        devices = []
        modes: dict[str, Mode] = {}
        conflicts = set()
        for gpu in gpus:
            address = str(gpu.pci_address)
            if gpu.warnings:
                warnings.append(
                    'GPU %s (%s) is reported without facts its library '
                    'could not give: %s.'
                    % (gpu.pci_address, gpu.name, '; '.join(gpu.warnings))
                )
            mode = self.mode_of(gpu, warnings)
            if mode is None:
                conflicts.add(address)
                continue
            modes[address] = mode
            gpu = _with_reasons(gpu, unhealthy.get(address, ()))
            device = self._plan_gpu(gpu, mode, warnings)
            if device is not None:
                devices.append(device)
        entitlement = self.entitlement_device()
        if entitlement is not None:
            devices.append(entitlement)
        self._warn_unmatched_selectors(gpus, warnings)
        return Plan(
            devices=tuple(sorted(devices, key=lambda d: d.key)),
            warnings=tuple(warnings),
            modes=modes,
            conflicts=frozenset(conflicts),
        )

    # Modes ---------------------------------------------------------------

    def mode_of(
        self, gpu: models.HardwareGpu, warnings: list[str]
    ) -> Mode | None:
        """The mode of *gpu*; None (and a warning) when two lists claim it."""
        claimed = {}
        for mode in Mode:
            for selector in self.settings.selectors_of(mode):
                if selector.matches(gpu):
                    claimed[mode] = selector
        if len(claimed) > 1:
            warnings.append(
                'GPU %s (%s) is matched by %s: a GPU has one mode, so its '
                'report is left as it was; fix [orionx_gpu].'
                % (
                    gpu.pci_address,
                    gpu.name,
                    ' and '.join(
                        '%s (%s)' % (s.option, s.text)
                        for s in claimed.values()
                    ),
                )
            )
            return None
        if claimed:
            return next(iter(claimed))
        return self.settings.default_mode

    def _warn_unmatched_selectors(
        self, gpus: list[models.HardwareGpu], warnings: list[str]
    ) -> None:
        for selector in self.settings.selectors:
            if not any(selector.matches(gpu) for gpu in gpus):
                warnings.append(
                    'Selector %r of [orionx_gpu] %s matches no GPU of this '
                    'host.' % (selector.text, selector.option)
                )

    # Devices -------------------------------------------------------------

    def _plan_gpu(
        self, gpu: models.HardwareGpu, mode: Mode, warnings: list[str]
    ) -> spec.DeviceSpec | None:
        if mode is Mode.OFF:
            return None
        if gpu.sriov_vfs or gpu.pf_driver is not None:
            deployables = self._virtual_functions(gpu, mode, warnings)
        elif mode is Mode.PASSTHROUGH:
            deployables = [self._passthrough(gpu)]
        elif mode is Mode.VGPU:
            deployables = self._vgpu(gpu, warnings)
        else:
            deployables = self._pool(gpu, warnings)
        if not deployables:
            return None
        if not gpu.health.healthy:
            deployables = [
                d.with_trait(
                    resources.HEALTH_TRAIT_KEY, resources.TRAIT_UNHEALTHY
                )
                for d in deployables
            ]
        return spec.DeviceSpec(
            key='gpu:%s' % gpu.pci_address,
            vendor=gpu.vendor_id,
            device_type=resources.device_type(gpu.vendor_id),
            model=gpu.name,
            cpid_info=spec.cyborg_json(gpu.pci_address.cyborg_fields()),
            std_board_info=spec.canonical_json(
                {
                    **_std_board_info(gpu),
                    resources.BOARD_DEPLOYABLE_PREFIX: (
                        resources.deployable_name(
                            self.host, str(gpu.pci_address)
                        )
                    ),
                }
            ),
            vendor_board_info=spec.canonical_json(
                self._vendor_board_info(gpu, mode)
            ),
            deployables=tuple(sorted(deployables, key=lambda d: d.name)),
        )

    def _deployable(
        self,
        gpu: models.HardwareGpu,
        suffix: str,
        resource_class: str,
        total: int,
        extra_traits: Mapping[str, str],
        handles: Iterable[spec.AttachHandleSpec] = (),
    ) -> spec.DeployableSpec:
        traits = gpu_traits(gpu)
        traits.update(extra_traits)
        return spec.DeployableSpec(
            name=resources.deployable_name(
                self.host, str(gpu.pci_address), suffix
            ),
            resource_class=resource_class,
            total=total,
            traits=tuple(sorted(traits.items())),
            attach_handles=tuple(sorted(handles)),
        )

    def _passthrough(self, gpu: models.HardwareGpu) -> spec.DeployableSpec:
        handle = spec.AttachHandleSpec(
            resources.AH_PCI, spec.cyborg_json(gpu.pci_address.cyborg_fields())
        )
        if resources.device_kind(gpu.vendor_id) == 'NPU':
            suffix, resource_class = (
                resources.PASSTHROUGH_NPU_SUFFIX,
                resources.RC_PNPU,
            )
        else:
            suffix, resource_class = (
                resources.PASSTHROUGH_SUFFIX,
                resources.RC_PGPU,
            )
        return self._deployable(gpu, suffix, resource_class, 1, {}, [handle])

    def _virtual_functions(
        self, gpu: models.HardwareGpu, mode: Mode, warnings: list[str]
    ) -> list[spec.DeployableSpec]:
        """One deployable per SR-IOV VF of a GPU split into VFs (MxGPU).

        The GPU itself is not offered: its host driver (GIM) holds it and
        each VF is the partition a VM gets, in passthrough or vgpu mode.
        A VF bound to ``vfio-pci`` (handed to a VM) stays reported.
        """
        if mode is Mode.POOL:
            warnings.append(
                'GPU %s (%s) is split into %d SR-IOV VFs by %s: the pool '
                'cannot use it; report it in passthrough or vgpu mode.'
                % (
                    gpu.pci_address,
                    gpu.name,
                    len(gpu.sriov_vfs),
                    gpu.pf_driver or 'its host driver',
                )
            )
            return []
        if not gpu.sriov_vfs:
            warnings.append(
                'GPU %s (%s) is owned by %s and has no SR-IOV VF enabled: '
                'nothing is offered. Enable VFs (sriov_numvfs) to offer '
                'them.' % (gpu.pci_address, gpu.name, gpu.pf_driver)
            )
            return []
        deployables = []
        kind = resources.device_kind(gpu.vendor_id)
        for vf in gpu.sriov_vfs:
            traits = gpu_traits(gpu)
            traits[resources.PRODUCT_TRAIT_KEY] = resources.product_trait(
                vf.pci_device_id, kind
            )
            if vf.memory_mib:
                traits[resources.MEMORY_TRAIT_KEY] = resources.memory_trait(
                    vf.memory_mib, kind
                )
            traits[resources.SRIOV_VF_TRAIT_KEY] = resources.TRAIT_SRIOV_VF
            handle = spec.AttachHandleSpec(
                resources.AH_PCI, spec.cyborg_json(vf.address.cyborg_fields())
            )
            deployables.append(
                spec.DeployableSpec(
                    name=resources.deployable_name(
                        self.host, str(vf.address), resources.VF_SUFFIX
                    ),
                    resource_class=resources.RC_GPU_VF,
                    total=1,
                    traits=tuple(sorted(traits.items())),
                    attach_handles=(handle,),
                )
            )
        return deployables

    def _pool(
        self, gpu: models.HardwareGpu, warnings: list[str]
    ) -> list[spec.DeployableSpec]:
        pool = self.settings.pool
        if gpu.vendor_id not in pool.vendors:
            warnings.append(
                'GPU %s (%s) is in pool mode, but [orionx_pool] vendors does '
                'not list its vendor %s: it is not offered to the pool. List '
                "the vendor once the pool's runtime serves it."
                % (gpu.pci_address, gpu.name, gpu.vendor_id)
            )
            return []
        memory = gpu.memory_mib - pool.memory_reserved_mib
        if memory <= 0:
            warnings.append(
                'GPU %s has %d MiB, not more than [orionx_pool] '
                'memory_reserved_mib (%d): it is not offered to the pool.'
                % (gpu.pci_address, gpu.memory_mib, pool.memory_reserved_mib)
            )
            return []
        if gpu.mig_enabled:
            warnings.append(
                'GPU %s is in pool mode with MIG enabled; the pool uses the '
                'whole GPU: disable MIG on it (nvidia-smi -i %s -mig 0).'
                % (gpu.pci_address, gpu.index)
            )
        traits = {resources.POOL_TRAIT_KEY: resources.pool_trait(pool.name)}
        return [
            self._deployable(
                gpu,
                resources.POOL_MEMORY_SUFFIX,
                resources.RC_POOL_MEMORY,
                memory,
                traits,
            ),
            self._deployable(
                gpu,
                resources.POOL_COMPUTE_SUFFIX,
                resources.RC_POOL_COMPUTE,
                pool.compute_total,
                traits,
            ),
        ]

    def _vgpu(
        self, gpu: models.HardwareGpu, warnings: list[str]
    ) -> list[spec.DeployableSpec]:
        if gpu.host_vgpu_mode is models.HostVgpuMode.NONE:
            warnings.append(
                'GPU %s is in vgpu mode but NVML reports no NVIDIA vGPU '
                'manager on this host: it is not reported.' % gpu.pci_address
            )
            return []
        enabled = [
            vgpu_type
            for vgpu_type in gpu.vgpu_types
            if any(
                s.matches(vgpu_type) for s in self.settings.enabled_vgpu_types
            )
        ]
        if not enabled:
            warnings.append(
                'GPU %s supports none of [orionx_gpu] enabled_vgpu_types; '
                'it supports: %s.'
                % (
                    gpu.pci_address,
                    ', '.join(t.name for t in gpu.vgpu_types) or 'nothing',
                )
            )
            return []
        state = self._describe_sysfs(
            gpu.pci_address, frozenset(t.mdev_type for t in enabled)
        )
        deployables = []
        missing = []
        for vgpu_type in enabled:
            handles = _vgpu_handles(state, vgpu_type)
            if not handles:
                missing.append(vgpu_type)
                continue
            deployables.append(
                self._deployable(
                    gpu,
                    resources.vgpu_suffix(vgpu_type.name),
                    resources.RC_VGPU,
                    len(handles),
                    {
                        resources.VGPU_TYPE_TRAIT_KEY: (
                            resources.vgpu_type_trait(vgpu_type.name)
                        )
                    },
                    handles,
                )
            )
        # On SR-IOV hosts a GPU offers the types its VFs are configured
        # with, so an enabled type without VFs is only news when the GPU
        # offers nothing at all.
        if missing and (not deployables or not state.virtual_functions):
            warnings.extend(
                _no_instances_warning(gpu, vgpu_type, state)
                for vgpu_type in missing
            )
        if len(deployables) > 1:
            warnings.append(
                'GPU %s offers %d vGPU types at once; NVIDIA GPUs run one '
                'type at a time unless heterogeneous mode is on, so '
                'Placement may place a type that cannot be created until '
                'the next report.' % (gpu.pci_address, len(deployables))
            )
        return deployables

    def entitlement_device(self) -> spec.DeviceSpec | None:
        """The pooled-vGPU entitlement of this host, if it has one."""
        pool = self.settings.pool
        if pool.entitlement <= 0:
            return None
        handles = [
            spec.AttachHandleSpec(
                resources.AH_REMOTE,
                spec.canonical_json({'pool': pool.name, 'slot': str(slot)}),
            )
            for slot in range(pool.entitlement)
        ]
        deployable = spec.DeployableSpec(
            name=resources.deployable_name(
                self.host, resources.ENTITLEMENT_NAME_PART, pool.name
            ),
            resource_class=resources.RC_ENTITLEMENT,
            total=pool.entitlement,
            traits=(
                (resources.OWNER_TRAIT_KEY, resources.TRAIT_OWNER),
                (resources.POOL_TRAIT_KEY, resources.pool_trait(pool.name)),
            ),
            attach_handles=tuple(sorted(handles)),
        )
        return spec.DeviceSpec(
            key='entitlement:%s' % pool.name,
            vendor='orionx',
            model='OrionX pooled vGPU entitlement',
            cpid_info=spec.canonical_json({'orionx_entitlement': pool.name}),
            std_board_info=spec.canonical_json(
                {'kind': 'entitlement', 'pool': pool.name}
            ),
            vendor_board_info=spec.canonical_json(
                {'mode': 'entitlement', 'pool': pool.name}
            ),
            deployables=(deployable,),
        )

    def _vendor_board_info(
        self, gpu: models.HardwareGpu, mode: Mode
    ) -> dict[str, object]:
        info: dict[str, object] = {
            'mode': mode.value,
            'state': 'present',
            'health': gpu.health.state.value,
        }
        if gpu.health.reasons:
            info['health_reasons'] = list(gpu.health.reasons)
        if mode is Mode.POOL:
            info['pool'] = self.settings.pool.name
        if gpu.mig_enabled:
            info['mig_devices'] = [m.profile for m in gpu.mig_devices]
        if gpu.host_vgpu_mode is not models.HostVgpuMode.NONE:
            info['host_vgpu_mode'] = gpu.host_vgpu_mode.value
        if gpu.numa_node is not None:
            info['numa_node'] = gpu.numa_node
        if gpu.partition_mode is not None:
            info['partition_mode'] = gpu.partition_mode
        if gpu.pf_driver is not None:
            info['pf_driver'] = gpu.pf_driver
        if gpu.sriov_vfs:
            info['sriov_vfs'] = [
                {
                    'pci_address': str(vf.address),
                    'driver': vf.driver,
                    'memory_mib': vf.memory_mib,
                }
                for vf in gpu.sriov_vfs
            ]
        if gpu.partition_profiles:
            # What the device can be split into (Ascend vNPU templates),
            # for operators; not offered as deployables yet.
            info['partition_profiles'] = [
                p.name for p in gpu.partition_profiles
            ]
        return info


def _std_board_info(gpu: models.HardwareGpu) -> dict[str, object]:
    # The PCI address (and the deployable name prefix the planner adds)
    # let consumers of Cyborg's API, the attach service, pair a device
    # with its deployables: the API shows no device id on devices.
    return {
        resources.BOARD_PCI_ADDRESS: str(gpu.pci_address),
        resources.BOARD_PRODUCT_ID: gpu.pci_device_id,
        resources.BOARD_UUID: gpu.uuid,
        resources.BOARD_MEMORY_MIB: gpu.memory_mib,
        resources.BOARD_COMPUTE_CAPABILITY: (
            str(gpu.compute_capability) if gpu.compute_capability else None
        ),
    }


def _with_reasons(
    gpu: models.HardwareGpu, reasons: tuple[str, ...]
) -> models.HardwareGpu:
    if not reasons:
        return gpu
    merged = tuple(dict.fromkeys(gpu.health.reasons + reasons))
    return dataclasses.replace(gpu, health=models.Health.unhealthy(*merged))


def _vgpu_handles(
    state: sysfs.PciFunctionState, vgpu_type: models.VgpuType
) -> list[spec.AttachHandleSpec]:
    # Vendor VFIO (Ada, Hopper): the VFs configured with the type, passed
    # through as PCI devices.
    if state.virtual_functions:
        return [
            spec.AttachHandleSpec(
                resources.AH_PCI, spec.cyborg_json(vf.address.cyborg_fields())
            )
            for vf in state.virtual_functions
            if vf.current_type_id == vgpu_type.type_id
        ]
    # mdev: one handle per instance the parent can hold; Cyborg's agent
    # creates the mdev at bind time with the handle's UUID.
    handles = []
    for parent in state.mdev_parents:
        for mdev_type in parent.types:
            if mdev_type.type_id != vgpu_type.mdev_type:
                continue
            for number in range(mdev_type.capacity):
                info = dict(parent.address.cyborg_fields())
                info['asked_type'] = mdev_type.type_id
                info['vgpu_mark'] = '%s_%d' % (mdev_type.type_id, number)
                handles.append(
                    spec.AttachHandleSpec(
                        resources.AH_MDEV, spec.cyborg_json(info)
                    )
                )
    return handles


def _no_instances_warning(
    gpu: models.HardwareGpu,
    vgpu_type: models.VgpuType,
    state: sysfs.PciFunctionState,
) -> str:
    if state.virtual_functions:
        return (
            'GPU %s: no virtual function is configured with vGPU type %s; '
            'write %d to a free VF\'s nvidia/current_vgpu_type to offer it.'
            % (gpu.pci_address, vgpu_type.name, vgpu_type.type_id)
        )
    if not state.present:
        return 'GPU %s is not in sysfs: vGPU types cannot be read.' % (
            gpu.pci_address
        )
    return (
        'GPU %s: sysfs offers no %s (%s) instance; check that the vGPU '
        'manager exposes it (mdev_supported_types).'
        % (gpu.pci_address, vgpu_type.name, vgpu_type.mdev_type)
    )

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

"""The sysfs seam: the only module of orionx-cyborg that reads ``/sys``.

It answers, for one GPU's PCI function, what the vGPU manager exposes:
mediated-device (mdev) types under ``mdev_supported_types`` (on the GPU or
on its SR-IOV virtual functions), and, on Ada and Hopper hosts that use
NVIDIA's vendor VFIO framework, each virtual function's
``nvidia/creatable_vgpu_types`` and ``nvidia/current_vgpu_type``. It also
tells which kernel driver holds the GPU: a GPU handed to a VM is bound to
``vfio-pci`` and vanishes from NVML while it stays on the bus.

For vendors whose library cannot list SR-IOV virtual functions (AMD's
ROCm AMD SMI does not see MxGPU VFs, nor a GPU the GIM host driver owns),
it reads what the kernel exposes for every SR-IOV device:
``sriov_totalvfs``, ``sriov_numvfs``, the ``virtfn<N>`` links and each
VF's ``vendor``, ``device`` and ``driver`` (:meth:`SysfsReader.sriov`),
and it scans the PCI devices of one vendor
(:meth:`SysfsReader.pci_functions`).

The root is injectable (``[orionx_gpu] sysfs_root``), so tests and the
simulated hosts read a tree of their own.
"""

from __future__ import annotations

import dataclasses
import os
import re

from orionx_cyborg import exception
from orionx_cyborg.gpu import models

_VF_LINK = re.compile(r'^virtfn(?P<number>\d+)$')
_CREATABLE_LINE = re.compile(r'^\s*(?P<id>\d+)\s*:\s*(?P<name>.+?)\s*$')


@dataclasses.dataclass(frozen=True)
class MdevType:
    """A mediated-device type a PCI function offers."""

    type_id: str
    """The directory name, e.g. ``nvidia-1103``."""
    name: str
    """Contents of ``name``, e.g. ``NVIDIA T4-1Q`` (older: ``GRID ...``)."""
    available_instances: int
    created: tuple[str, ...]
    """UUIDs of the mediated devices of this type that exist."""

    @property
    def capacity(self) -> int:
        return self.available_instances + len(self.created)


@dataclasses.dataclass(frozen=True)
class MdevParent:
    """A PCI function (the GPU or one of its VFs) offering mdev types."""

    address: models.PciAddress
    types: tuple[MdevType, ...]


@dataclasses.dataclass(frozen=True)
class VirtualFunction:
    """An SR-IOV virtual function of a GPU (vendor VFIO framework)."""

    address: models.PciAddress
    creatable: tuple[tuple[int, str], ...]
    """(vGPU type id, name) pairs from ``nvidia/creatable_vgpu_types``."""
    current_type_id: int | None
    """``nvidia/current_vgpu_type``; ``None`` when no type is set (0)."""
    driver: str | None = None


@dataclasses.dataclass(frozen=True)
class PciFunctionState:
    """What sysfs says about one GPU's PCI function."""

    address: models.PciAddress
    present: bool
    driver: str | None
    mdev_parents: tuple[MdevParent, ...] = ()
    virtual_functions: tuple[VirtualFunction, ...] = ()


@dataclasses.dataclass(frozen=True)
class PciFunction:
    """One PCI function as sysfs describes it."""

    address: models.PciAddress
    vendor_id: str
    """Four lower-case hex digits, without ``0x`` (``1002``)."""
    device_id: str
    class_code: str
    """Six lower-case hex digits (``120000``: processing accelerator)."""
    driver: str | None


@dataclasses.dataclass(frozen=True)
class SriovState:
    """The SR-IOV facts of one physical function."""

    total_vfs: int | None
    """``sriov_totalvfs``; None when the function is not SR-IOV capable
    or the file could not be read."""
    num_vfs: int | None
    """``sriov_numvfs``: the VFs enabled now."""
    virtual_functions: tuple[PciFunction, ...] = ()
    warnings: tuple[str, ...] = ()
    """Files that exist but could not be read: the facts are partial."""


class SysfsReader:
    """Reads the PCI and vGPU facts of GPUs from a sysfs tree."""

    def __init__(self, root: str = '/sys') -> None:
        self.root = root

    def describe(
        self,
        address: models.PciAddress,
        mdev_types: frozenset[str] | None = None,
    ) -> PciFunctionState:
        """Describe the PCI function at *address*.

        :param mdev_types: read only these mdev type directories (all when
            None); a GPU offers a dozen types and the driver needs one.
        :raises SysfsError: if a file that exists cannot be read.
        """
        path = self._device_path(address)
        if not os.path.isdir(path):
            return PciFunctionState(address, present=False, driver=None)
        vfs = self._virtual_function_paths(path)
        parents = [self._mdev_parent(address, path, mdev_types)]
        parents += [
            self._mdev_parent(vf, vf_path, mdev_types) for vf, vf_path in vfs
        ]
        return PciFunctionState(
            address=address,
            present=True,
            driver=self._driver(path),
            mdev_parents=tuple(p for p in parents if p is not None),
            virtual_functions=tuple(
                vf
                for vf in (self._vendor_vf(a, p) for a, p in vfs)
                if vf is not None
            ),
        )

    def sriov(self, address: models.PciAddress) -> SriovState:
        """The SR-IOV state of the physical function at *address*.

        Never raises: a file that cannot be read leaves its fact out and
        a warning, so that a broken ``sriov_numvfs`` never drops the GPU
        or its VFs (the ``virtfn<N>`` links are the VFs that exist).
        """
        path = self._device_path(address)
        warnings: list[str] = []
        counts = []
        for name in ('sriov_totalvfs', 'sriov_numvfs'):
            try:
                text = _read(os.path.join(path, name))
            except exception.SysfsError as err:
                warnings.append(str(err))
                text = ''
            counts.append(int(text) if text.isdigit() else None)
        vfs = []
        try:
            paths = self._virtual_function_paths(path)
        except (exception.SysfsError, OSError) as err:
            warnings.append('%s: %s' % (path, err))
            paths = []
        for vf_address, vf_path in paths:
            try:
                vfs.append(self._function(vf_address, vf_path))
            except exception.SysfsError as err:
                warnings.append(str(err))
        return SriovState(
            total_vfs=counts[0],
            num_vfs=counts[1],
            virtual_functions=tuple(vfs),
            warnings=tuple(warnings),
        )

    def pci_functions(
        self, vendor_id: str
    ) -> tuple[list[PciFunction], list[str]]:
        """The physical PCI functions of one vendor, and warnings.

        Virtual functions (those with a ``physfn`` link) are left out; a
        device whose files cannot be read is left out with a warning.
        """
        devices = os.path.join(self.root, 'bus', 'pci', 'devices')
        found: list[PciFunction] = []
        warnings: list[str] = []
        try:
            entries = sorted(_listdir(devices))
        except exception.SysfsError as err:
            return [], [str(err)]
        for entry in entries:
            try:
                address = models.PciAddress.parse(entry)
            except ValueError:
                continue
            path = os.path.join(devices, entry)
            if os.path.islink(os.path.join(path, 'physfn')):
                continue
            try:
                if _hex(_read(os.path.join(path, 'vendor'))) != vendor_id:
                    continue
                found.append(self._function(address, path))
            except exception.SysfsError as err:
                warnings.append(str(err))
        return found, warnings

    def _function(self, address: models.PciAddress, path: str) -> PciFunction:
        return PciFunction(
            address=address,
            vendor_id=_hex(_read(os.path.join(path, 'vendor'))),
            device_id=_hex(_read(os.path.join(path, 'device'))),
            class_code=_hex(_read(os.path.join(path, 'class')), 6),
            driver=self._driver(path),
        )

    def _device_path(self, address: models.PciAddress) -> str:
        return os.path.join(self.root, 'bus', 'pci', 'devices', str(address))

    @staticmethod
    def _driver(path: str) -> str | None:
        link = os.path.join(path, 'driver')
        if not os.path.islink(link):
            return None
        return os.path.basename(os.readlink(link))

    def _virtual_function_paths(
        self, path: str
    ) -> list[tuple[models.PciAddress, str]]:
        found = []
        for entry in _listdir(path):
            match = _VF_LINK.match(entry)
            if match is None:
                continue
            target = os.path.basename(os.readlink(os.path.join(path, entry)))
            try:
                address = models.PciAddress.parse(target)
            except ValueError:
                continue
            found.append((int(match['number']), address))
        return [
            (address, self._device_path(address))
            for _, address in sorted(found)
        ]

    def _mdev_parent(
        self,
        address: models.PciAddress,
        path: str,
        wanted: frozenset[str] | None,
    ) -> MdevParent | None:
        types_path = os.path.join(path, 'mdev_supported_types')
        if not os.path.isdir(types_path):
            return None
        types = tuple(
            self._mdev_type(os.path.join(types_path, type_id), type_id)
            for type_id in sorted(_listdir(types_path))
            if wanted is None or type_id in wanted
        )
        return MdevParent(address, types)

    @staticmethod
    def _mdev_type(path: str, type_id: str) -> MdevType:
        devices = os.path.join(path, 'devices')
        return MdevType(
            type_id=type_id,
            name=_read(os.path.join(path, 'name')),
            available_instances=int(
                _read(os.path.join(path, 'available_instances')) or 0
            ),
            created=tuple(sorted(_listdir(devices))),
        )

    def _vendor_vf(
        self, address: models.PciAddress, path: str
    ) -> VirtualFunction | None:
        nvidia = os.path.join(path, 'nvidia')
        if not os.path.isdir(nvidia):
            return None
        current = _read(os.path.join(nvidia, 'current_vgpu_type'))
        creatable = []
        for line in _read(
            os.path.join(nvidia, 'creatable_vgpu_types')
        ).splitlines():
            match = _CREATABLE_LINE.match(line)
            if match is not None:
                creatable.append((int(match['id']), match['name']))
        type_id = int(current) if current.isdigit() else 0
        return VirtualFunction(
            address=address,
            creatable=tuple(creatable),
            current_type_id=type_id or None,
            driver=self._driver(path),
        )


def _hex(text: str, digits: int = 4) -> str:
    """``0x1002`` -> ``1002``; ``0x120000`` -> ``120000``."""
    text = text.strip().lower()
    if text.startswith('0x'):
        text = text[2:]
    return text.zfill(digits) if text else ''


def _listdir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise exception.SysfsError(path=path, error=err) from err


def _read(path: str) -> str:
    try:
        with open(path, encoding='utf-8') as stream:
            return stream.read().strip()
    except FileNotFoundError:
        return ''
    except OSError as err:
        raise exception.SysfsError(path=path, error=err) from err

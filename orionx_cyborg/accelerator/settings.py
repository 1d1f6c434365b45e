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

"""Typed, validated driver settings built from the oslo.config options.

Everything an operator can get wrong is checked here, once, when the
driver is loaded; the errors name the option, the value and the fix.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
import os
import re
from typing import Any

from oslo_config import cfg

from orionx_cyborg import conf as orionx_conf
from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg.gpu import models

_UUID = re.compile(
    r'^GPU-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
    r'[0-9a-fA-F]{12}$'
)
_PCI_LIKE = re.compile(r'^[0-9a-fA-F]+:')
_MDEV_TYPE = re.compile(r'^nvidia-(?P<id>\d+)$')


class Mode(enum.Enum):
    """How a GPU is reported (see ``[orionx_gpu] default_mode``)."""

    PASSTHROUGH = 'passthrough'
    VGPU = 'vgpu'
    POOL = 'pool'
    OFF = 'off'


#: The option that lists the GPUs of each mode.
MODE_OPTIONS = {
    Mode.PASSTHROUGH: 'passthrough_devices',
    Mode.VGPU: 'vgpu_devices',
    Mode.POOL: 'pool_devices',
    Mode.OFF: 'disabled_devices',
}


class SelectorKind(enum.Enum):
    ADDRESS = 'address'
    UUID = 'uuid'
    MODEL = 'model'


@dataclasses.dataclass(frozen=True)
class Selector:
    """One item of a ``*_devices`` option."""

    kind: SelectorKind
    value: str
    option: str
    text: str

    @classmethod
    def parse(cls, text: str, option: str) -> Selector:
        """Parse a selector of option *option*.

        :raises InvalidOption: for a malformed PCI address or GPU UUID.
        """
        value = text.strip()
        if models.PciAddress.is_valid(value):
            address = str(models.PciAddress.parse(value))
            return cls(SelectorKind.ADDRESS, address, option, text)
        if value.upper().startswith('GPU-'):
            if not _UUID.match(value):
                raise _invalid(
                    option,
                    text,
                    'not a GPU UUID',
                    'Copy the UUID from "nvidia-smi -L" '
                    '(GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).',
                )
            return cls(SelectorKind.UUID, value.lower(), option, text)
        if _PCI_LIKE.match(value):
            raise _invalid(
                option,
                text,
                'not a PCI address',
                'Write addresses as domain:bus:device.function, '
                'e.g. 0000:18:00.0.',
            )
        if not value:
            raise _invalid(
                option, text, 'empty selector', 'Remove the empty item.'
            )
        return cls(SelectorKind.MODEL, value.lower(), option, text)

    def matches(self, gpu: models.HardwareGpu) -> bool:
        if self.kind is SelectorKind.ADDRESS:
            return str(gpu.pci_address) == self.value
        if self.kind is SelectorKind.UUID:
            return gpu.uuid.lower() == self.value
        return fnmatch.fnmatchcase(gpu.name.lower(), self.value)


@dataclasses.dataclass(frozen=True)
class VgpuTypeSelector:
    """One item of ``[orionx_gpu] enabled_vgpu_types``."""

    text: str
    type_id: int | None
    name: str | None

    @classmethod
    def parse(cls, text: str) -> VgpuTypeSelector:
        value = text.strip()
        if value.isdigit():
            return cls(text, int(value), None)
        match = _MDEV_TYPE.match(value.lower())
        if match:
            return cls(text, int(match['id']), None)
        if not value:
            raise _invalid(
                'enabled_vgpu_types',
                text,
                'empty type',
                'Remove the empty item.',
            )
        return cls(text, None, _normal_type_name(value))

    def matches(self, vgpu_type: models.VgpuType) -> bool:
        if self.type_id is not None:
            return vgpu_type.type_id == self.type_id
        return _normal_type_name(vgpu_type.name) == self.name


def _normal_type_name(name: str) -> str:
    """``NVIDIA H200X-35C``, ``GRID T4-1Q`` -> ``h200x-35c``, ``t4-1q``."""
    words = name.strip().lower().split()
    if len(words) > 1 and words[0] in ('nvidia', 'grid'):
        words = words[1:]
    return ' '.join(words)


@dataclasses.dataclass(frozen=True)
class PoolSettings:
    name: str
    entitlement: int
    memory_reserved_mib: int
    compute_oversubscription: float
    vendors: frozenset[str] = frozenset({'10de'})
    """PCI vendor ids whose GPUs may join the pool."""

    @property
    def trait(self) -> str:
        return resources.pool_trait(self.name)

    @property
    def compute_total(self) -> int:
        return int(round(100 * self.compute_oversubscription))


@dataclasses.dataclass(frozen=True)
class DriverSettings:
    """Everything the driver reads from its configuration."""

    default_mode: Mode
    selectors: tuple[Selector, ...]
    enabled_vgpu_types: tuple[VgpuTypeSelector, ...]
    pool: PoolSettings
    nvml_library: str | None
    fake_topology: str | None
    sysfs_root: str
    state_dir: str
    ignored_xids: frozenset[int]
    vendor_libraries: tuple[str, ...] = ('nvml',)

    def selectors_of(self, mode: Mode) -> tuple[Selector, ...]:
        option = MODE_OPTIONS[mode]
        return tuple(s for s in self.selectors if s.option == option)

    @property
    def uses_gpus(self) -> bool:
        """False when no GPU can ever be reported: NVML is not needed."""
        return self.default_mode is not Mode.OFF or any(
            s.option != MODE_OPTIONS[Mode.OFF] for s in self.selectors
        )

    def uses_mode(self, mode: Mode) -> bool:
        return self.default_mode is mode or bool(self.selectors_of(mode))


def register_and_load(
    conf: cfg.ConfigOpts, state_path: str | None = None
) -> DriverSettings:
    """Register the orionx-cyborg options on *conf* and validate them.

    :param state_path: Cyborg's ``[DEFAULT] state_path``, the parent of
        the default state directory.
    :raises ConfigurationError: naming the option and the fix.
    """
    orionx_conf.register_opts(conf)
    gpu = _GroupReader(conf, 'orionx_gpu')
    pool = _GroupReader(conf, 'orionx_pool')
    settings = DriverSettings(
        default_mode=Mode(gpu.get('default_mode')),
        selectors=_selectors(gpu),
        enabled_vgpu_types=tuple(
            VgpuTypeSelector.parse(t) for t in gpu.get('enabled_vgpu_types')
        ),
        pool=PoolSettings(
            name=pool.get('name'),
            entitlement=pool.get('entitlement'),
            memory_reserved_mib=pool.get('memory_reserved_mib'),
            compute_oversubscription=pool.get('compute_oversubscription'),
            vendors=frozenset(pool.get('vendors')),
        ),
        nvml_library=gpu.get('nvml_library'),
        fake_topology=gpu.get('fake_topology'),
        sysfs_root=gpu.get('sysfs_root'),
        state_dir=_state_dir(gpu.get('state_dir'), state_path),
        ignored_xids=frozenset(gpu.get('ignored_xids')),
        vendor_libraries=tuple(dict.fromkeys(gpu.get('vendor_libraries'))),
    )
    _check_vgpu_types(settings)
    return settings


class _GroupReader:
    """Reads options of one group, naming the option in every error."""

    def __init__(self, conf: cfg.ConfigOpts, group: str) -> None:
        self._conf = conf
        self._group = group

    def get(self, option: str) -> Any:
        try:
            return getattr(getattr(self._conf, self._group), option)
        except cfg.ConfigFileValueError as err:
            # oslo.config says why, and which values it accepts, after
            # the colon; the start names the file location.
            reason = str(err).split(' is not valid: ', 1)[-1]
            raise exception.InvalidOption(
                group=self._group,
                option=option,
                value=_raw_value(self._conf, self._group, option),
                reason=reason,
                fix='Correct it in the configuration file.',
            ) from err


def _raw_value(conf: cfg.ConfigOpts, group: str, option: str) -> str:
    """The text the operator wrote, for error messages ('?' if unknown)."""
    # oslo.config offers no public way to read a value it rejects.
    namespace = getattr(conf, '_namespace', None)
    for values in getattr(namespace, '_parsed', ()):
        for section, opts in values.items():
            if section == group and option in opts:
                return str(opts[option][-1])
    return '?'


def _selectors(gpu: _GroupReader) -> tuple[Selector, ...]:
    selectors = []
    owners: dict[tuple[SelectorKind, str], str] = {}
    for mode in Mode:
        option = MODE_OPTIONS[mode]
        for text in gpu.get(option):
            selector = Selector.parse(text, option)
            key = (selector.kind, selector.value)
            if key in owners and owners[key] != option:
                raise _invalid(
                    option,
                    text,
                    'also listed in [orionx_gpu] %s' % owners[key],
                    'A GPU has one mode: keep it in one list.',
                )
            owners[key] = option
            selectors.append(selector)
    return tuple(selectors)


def _check_vgpu_types(settings: DriverSettings) -> None:
    if settings.uses_mode(Mode.VGPU) and not settings.enabled_vgpu_types:
        raise _invalid(
            'enabled_vgpu_types',
            '',
            'empty while GPUs are in vgpu mode',
            'List the NVIDIA vGPU types to offer (e.g. "NVIDIA H200X-35C"; '
            '"nvidia-smi vgpu -s" shows them), or stop using vgpu mode.',
        )


def _state_dir(configured: str | None, state_path: str | None) -> str:
    if configured:
        return configured
    return os.path.join(state_path or '/var/lib/cyborg', 'orionx_cyborg')


def _invalid(
    option: str, value: str, reason: str, fix: str
) -> exception.InvalidOption:
    return exception.InvalidOption(
        group='orionx_gpu',
        option=option,
        value=value,
        reason=reason,
        fix=fix,
    )

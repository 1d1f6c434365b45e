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

"""A simulated ``libdcmi.so``: Huawei DCMI's C symbols in Python.

:class:`FakeDcmiLibrary` stands where the DCMI seam expects the loaded
library; the seam's ctypes structures and buffers reach these symbols as
they reach the real ones. Return codes are ``dcmi_interface_api.h``'s.
A symbol removed with :meth:`FakeDcmiLibrary.remove` is absent, as on an
older driver.

Catalogue sources: chip names, AI core counts and memory of 910B2,
910B3, 910B4 and 310P3 from HAMi's Ascend device configuration
(``charts/hami/templates/scheduler/device-configmap.yaml``, ``vnpus``)
and Huawei's MindX DL vNPU template tables; PCI device ids ``d802``
(Ascend 910B) and ``d500`` (Ascend 310P) from the Ascend kernel driver's
PCI table as quoted in public code, not from pci.ids (which lists no
Ascend ids); cards and chips per card from Huawei's product pages
(Atlas 800T A2: eight single-chip modules; Atlas 300I Duo: two 310P3
chips per card). Verified only against this fake.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from orionx_cyborg.gpu.fake import cabi

CODES = {
    'INVALID_PARAMETER': -8001,
    'OPER_NOT_PERMITTED': -8002,
    'INNER_ERR': -8005,
    'TIMEOUT': -8006,
    'DEVICE_NOT_EXIST': -8008,
    'NOT_SUPPORT': -8255,
}

_HEALTH = {'ok': 0, 'minor': 1, 'major': 2, 'critical': 3}


@dataclasses.dataclass(frozen=True)
class AscendModel:
    key: str
    chip_type: str
    chip_name: str
    pci_device_id: int
    memory_mib: int
    aicore: int
    hbm: bool
    """HBM (training chips) or DDR (inference chips)."""
    chips_per_card: int = 1


ASCEND_910B3 = AscendModel(
    'Ascend910B3', 'Ascend', '910B3', 0xD802, 65536, 20, True
)
ASCEND_910B4 = AscendModel(
    'Ascend910B4', 'Ascend', '910B4', 0xD802, 32768, 20, True
)
ASCEND_910B2 = AscendModel(
    'Ascend910B2', 'Ascend', '910B2', 0xD802, 65536, 24, True
)
ATLAS_300I_DUO = AscendModel(
    'Atlas-300I-Duo', 'Ascend', '310P3', 0xD500, 49152, 8, False, 2
)
ASCEND_310P3 = AscendModel(
    'Ascend310P3', 'Ascend', '310P3', 0xD500, 24576, 8, False
)

MODELS: dict[str, AscendModel] = {
    m.key: m
    for m in (
        ASCEND_910B2,
        ASCEND_910B3,
        ASCEND_910B4,
        ASCEND_310P3,
        ATLAS_300I_DUO,
    )
}


@dataclasses.dataclass(frozen=True)
class SimulatedCard:
    model: AscendModel
    card_id: int
    bus: int
    domain: int = 0
    health: str = 'ok'
    error_codes: tuple[int, ...] = ()
    lost: bool = False
    errors: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class SimulatedAscendHost:
    cards: tuple[SimulatedCard, ...] = ()
    driver_version: str = '24.1.rc3'
    library: str = 'ok'
    """ok | no-permission"""


def ascend_host(
    *cards: Mapping[str, Any], **kwargs: Any
) -> SimulatedAscendHost:
    """A simulated host from short card descriptions.

    Each item names a ``model`` key and may set ``count`` and any
    :class:`SimulatedCard` field.
    """
    built: list[SimulatedCard] = []
    for item in cards:
        item = dict(item)
        model = MODELS[item.pop('model')]
        for _ in range(int(item.pop('count', 1))):
            position = len(built)
            domain, slot = divmod(position, 4)
            built.append(
                SimulatedCard(
                    model=model,
                    card_id=position,
                    domain=domain,
                    bus=0xC1 + 0x10 * slot,
                    **item,
                )
            )
    return SimulatedAscendHost(cards=tuple(built), **kwargs)


class FakeDcmiError(cabi.ReturnCode):
    """Carries a DCMI error code out of a simulated call."""


class FakeDcmiLibrary(cabi.SimulatedLibrary):
    """The DCMI C library of one simulated host."""

    def __init__(self, host: SimulatedAscendHost) -> None:
        super().__init__(_SYMBOLS)
        self.host = host
        self._initialized = False
        self._failures: dict[str, int] = {}

    def fail(self, symbol: str, code: str) -> None:
        """Make *symbol* return DCMI error *code* on every card."""
        self._failures[symbol] = CODES[code]

    def _before_call(self, name: str) -> None:
        if name in self._failures:
            raise FakeDcmiError(self._failures[name])

    def _card(self, name: str, card_id: int) -> SimulatedCard:
        if not self._initialized:
            raise FakeDcmiError(CODES['INNER_ERR'])
        for card in self.host.cards:
            if card.card_id == int(card_id):
                if card.lost:
                    raise FakeDcmiError(CODES['DEVICE_NOT_EXIST'])
                if name in card.errors:
                    raise FakeDcmiError(CODES[card.errors[name]])
                return card
        raise FakeDcmiError(CODES['INVALID_PARAMETER'])

    def _chip(self, name: str, card_id: int, chip: int) -> SimulatedCard:
        card = self._card(name, card_id)
        if not 0 <= int(chip) < card.model.chips_per_card:
            raise FakeDcmiError(CODES['INVALID_PARAMETER'])
        return card


def _init(lib: FakeDcmiLibrary, name: str) -> None:
    if lib.host.library == 'no-permission':
        raise FakeDcmiError(CODES['OPER_NOT_PERMITTED'])
    lib._initialized = True


def _card_list(
    lib: FakeDcmiLibrary, name: str, count: Any, cards: Any, size: int
) -> None:
    if not lib._initialized:
        raise FakeDcmiError(CODES['INNER_ERR'])
    ids = [card.card_id for card in lib.host.cards]
    if len(ids) > int(size):
        raise FakeDcmiError(CODES['INVALID_PARAMETER'])
    count._obj.value = len(ids)
    for position, card_id in enumerate(ids):
        cards[position] = card_id


def _chips(lib: FakeDcmiLibrary, name: str, card_id: int, out: Any) -> None:
    out._obj.value = lib._card(name, card_id).model.chips_per_card


def _chip_info(
    lib: FakeDcmiLibrary, name: str, card_id: int, chip: int, out: Any
) -> None:
    model = lib._chip(name, card_id, chip).model
    info = out._obj
    for field, text in (
        ('chip_type', model.chip_type),
        ('chip_name', model.chip_name),
        ('chip_ver', 'V1'),
    ):
        data = text.encode()
        getattr(info, field)[: len(data)] = list(data)
    info.aicore_cnt = model.aicore


def _pcie_info(
    lib: FakeDcmiLibrary, name: str, card_id: int, chip: int, out: Any
) -> None:
    card = lib._chip(name, card_id, chip)
    info = out._obj
    info.venderid = 0x19E5
    info.subvenderid = 0x19E5
    info.deviceid = card.model.pci_device_id
    info.subdeviceid = 0x0100
    info.domain = card.domain
    info.bdf_busid = card.bus + int(chip)
    info.bdf_deviceid = 0
    info.bdf_funcid = 0


def _hbm(
    lib: FakeDcmiLibrary, name: str, card_id: int, chip: int, out: Any
) -> None:
    model = lib._chip(name, card_id, chip).model
    if not model.hbm:
        raise FakeDcmiError(CODES['NOT_SUPPORT'])
    out._obj.memory_size = model.memory_mib
    out._obj.memory_usage = 0


def _memory(
    lib: FakeDcmiLibrary, name: str, card_id: int, chip: int, out: Any
) -> None:
    model = lib._chip(name, card_id, chip).model
    out._obj.memory_size = model.memory_mib
    out._obj.memory_available = model.memory_mib


def _health(
    lib: FakeDcmiLibrary, name: str, card_id: int, chip: int, out: Any
) -> None:
    out._obj.value = _HEALTH[lib._chip(name, card_id, chip).health]


def _error_codes(
    lib: FakeDcmiLibrary,
    name: str,
    card_id: int,
    chip: int,
    count: Any,
    codes: Any,
    size: int,
) -> None:
    card = lib._chip(name, card_id, chip)
    count._obj.value = len(card.error_codes)
    for position, code in enumerate(card.error_codes[: int(size)]):
        codes[position] = code


def _driver_version(
    lib: FakeDcmiLibrary, name: str, buffer: Any, size: int
) -> None:
    data = lib.host.driver_version.encode()
    if len(data) + 1 > int(size):
        raise FakeDcmiError(CODES['INVALID_PARAMETER'])
    buffer.value = data


_SYMBOLS: dict[str, Callable[..., None]] = {
    'dcmi_init': _init,
    'dcmi_get_card_list': _card_list,
    'dcmi_get_device_num_in_card': _chips,
    'dcmi_get_device_chip_info': _chip_info,
    'dcmi_get_device_pcie_info_v2': _pcie_info,
    'dcmi_get_device_hbm_info': _hbm,
    'dcmi_get_device_memory_info_v3': _memory,
    'dcmi_get_device_health': _health,
    'dcmi_get_device_errorcode_v2': _error_codes,
    'dcmi_get_driver_version': _driver_version,
}

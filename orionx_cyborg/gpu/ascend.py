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

"""The DCMI seam: Huawei Ascend NPUs through ``libdcmi.so``.

Nothing on PyPI wraps DCMI, so the ctypes declarations below are written
from its public header, ``dcmi_interface_api.h`` (as shipped with the
Ascend driver and vendored by Ascend's own device plugins): the
structures ``dcmi_chip_info``, ``dcmi_pcie_info_all`` (64 bytes),
``dcmi_hbm_info`` and ``dcmi_get_memory_info_stru`` (96 bytes), the
return codes (``DCMI_OK`` 0, ``DCMI_ERROR_CODE_BASE`` -8000 minus an
offset, -8255 "not support") and the calls a device plugin makes. This
module is the only one that loads the library; DCMI errors become
:mod:`orionx_cyborg.exception` errors here.

An Ascend card holds one or more chips (devices); each chip is one PCI
function and is reported as one NPU. Card list, chip count, chip
information and PCIe information identify a chip; memory, health and
error codes degrade its description with a warning when they fail.

vNPU templates are not queried (DCMI describes them only through
``dcmi_get_device_info`` sub-commands whose layouts the public header
does not give); they come from Huawei's documented tables, as HAMi's
device configuration lists them, per chip name.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator
from typing import Any

from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.gpu import models

LOG = logging.getLogger(__name__)

VENDOR_ID = '19e5'

DCMI_OK = 0
_BASE = -8000
ERRORS = {
    _BASE - 1: 'invalid parameter',
    _BASE - 2: 'operation not permitted',
    _BASE - 3: 'memory operation failed',
    _BASE - 5: 'inner error',
    _BASE - 6: 'timeout',
    _BASE - 7: 'invalid device id',
    _BASE - 8: 'device does not exist',
    _BASE - 9: 'ioctl failed',
    _BASE - 12: 'not ready',
    _BASE - 13: 'not supported in a container',
    _BASE - 255: 'not supported',
}
NOT_SUPPORTED = _BASE - 255
DEVICE_NOT_EXIST = _BASE - 8
OPER_NOT_PERMITTED = _BASE - 2
#: The C library lacks the symbol (an older driver): not a DCMI code.
FUNCTION_NOT_FOUND = -1

_MAX_CARDS = 64
_MAX_CHIP_NAME_LEN = 32
_MAX_ERROR_CODES = 128

#: Health values of dcmi_get_device_health: 0 normal, 1 minor alarm,
#: 2 major alarm, 3 critical alarm. Ascend's device plugin counts a minor
#: alarm as healthy.
_HEALTHY = frozenset({0, 1})
_HEALTH_NAMES = {2: 'major alarm', 3: 'critical alarm'}

_SEARCH_PATHS = (
    'libdcmi.so',
    '/usr/local/Ascend/driver/lib64/driver/libdcmi.so',
    '/usr/local/dcmi/libdcmi.so',
)

#: Documented vNPU templates by chip name: (template, AI cores, MiB).
#: Sources: Huawei MindX DL "virtual NPU" template tables and HAMi's
#: device configuration (charts/hami/templates/scheduler/
#: device-configmap.yaml, "vnpus").
VNPU_TEMPLATES: dict[str, tuple[int, tuple[tuple[str, int, int], ...]]] = {
    '910B2': (
        24,
        (
            ('vir03_1c_8g', 3, 8192),
            ('vir06_1c_16g', 6, 16384),
            ('vir12_3c_32g', 12, 32768),
        ),
    ),
    '910B3': (20, (('vir05_1c_16g', 5, 16384), ('vir10_3c_32g', 10, 32768))),
    '910B4': (20, (('vir05_1c_8g', 5, 8192), ('vir10_3c_16g', 10, 16384))),
    '310P3': (
        8,
        (('vir01', 1, 3072), ('vir02', 2, 6144), ('vir04', 4, 12288)),
    ),
}


class ChipInfo(ctypes.Structure):
    _fields_ = [
        ('chip_type', ctypes.c_ubyte * _MAX_CHIP_NAME_LEN),
        ('chip_name', ctypes.c_ubyte * _MAX_CHIP_NAME_LEN),
        ('chip_ver', ctypes.c_ubyte * _MAX_CHIP_NAME_LEN),
        ('aicore_cnt', ctypes.c_uint),
    ]


class PcieInfoAll(ctypes.Structure):
    _fields_ = [
        ('venderid', ctypes.c_uint),
        ('subvenderid', ctypes.c_uint),
        ('deviceid', ctypes.c_uint),
        ('subdeviceid', ctypes.c_uint),
        ('domain', ctypes.c_int),
        ('bdf_busid', ctypes.c_uint),
        ('bdf_deviceid', ctypes.c_uint),
        ('bdf_funcid', ctypes.c_uint),
        ('reserve', ctypes.c_ubyte * 32),
    ]


class HbmInfo(ctypes.Structure):
    _fields_ = [
        ('memory_size', ctypes.c_ulonglong),
        ('freq', ctypes.c_uint),
        ('memory_usage', ctypes.c_ulonglong),
        ('temp', ctypes.c_int),
        ('bandwith_util_rate', ctypes.c_uint),
    ]


class MemoryInfo(ctypes.Structure):
    _fields_ = [
        ('memory_size', ctypes.c_ulonglong),
        ('memory_available', ctypes.c_ulonglong),
        ('freq', ctypes.c_uint),
        ('hugepagesize', ctypes.c_ulong),
        ('hugepages_total', ctypes.c_ulong),
        ('hugepages_free', ctypes.c_ulong),
        ('utiliza', ctypes.c_uint),
        ('reserve', ctypes.c_ubyte * 60),
    ]


class DcmiError(Exception):
    """A non-zero DCMI return code (converted before leaving the seam)."""

    def __init__(self, call: str, code: int) -> None:
        self.call = call
        self.code = code
        super().__init__(
            '%s: %s (DCMI %d)' % (call, ERRORS.get(code, 'error'), code)
            if code != FUNCTION_NOT_FOUND
            else '%s: function not found' % call
        )


def _text(field: Any) -> str:
    return bytes(field).split(b'\0', 1)[0].decode('utf-8', 'replace')


def _missing(error: str) -> exception.AcceleratorLibraryUnavailable:
    return exception.AcceleratorLibraryUnavailable(
        library='DCMI',
        error=error,
        hint='Install the Ascend NPU driver (libdcmi.so) or remove dcmi '
        'from [orionx_gpu] vendor_libraries.',
        missing=True,
    )


def load_library(path: str | None = None) -> ctypes.CDLL:
    """``libdcmi.so`` from *path* or the driver's usual places.

    :raises AcceleratorLibraryUnavailable: (missing) nowhere to be found.
    """
    errors = []
    for candidate in [path] if path else _SEARCH_PATHS:
        try:
            return ctypes.CDLL(candidate)
        except OSError as err:
            errors.append(str(err))
    raise _missing('cannot load libdcmi.so: %s' % '; '.join(errors))


class _Dcmi:
    """Typed calls into one DCMI library."""

    def __init__(self, library: Any) -> None:
        self._library = library
        self.calls = 0
        self.warnings: list[str] = []

    def call(self, name: str, *args: Any) -> None:
        self.calls += 1
        try:
            function = getattr(self._library, name)
        except AttributeError:
            raise DcmiError(name, FUNCTION_NOT_FOUND) from None
        if isinstance(self._library, ctypes.CDLL):
            function.restype = ctypes.c_int
        code = int(function(*args))
        if code != DCMI_OK:
            raise DcmiError(name, code)

    def optional(self, fact: str, name: str, *args: Any) -> bool:
        """Call *name*; False (and a warning) when it cannot answer.

        "Not supported" is an answer and gives no warning.
        """
        try:
            self.call(name, *args)
        except DcmiError as err:
            if err.code == DEVICE_NOT_EXIST:
                raise
            if err.code != NOT_SUPPORTED:
                self.warnings.append('%s: %s' % (fact, err))
            return False
        return True

    def cards(self) -> list[int]:
        count = ctypes.c_int()
        cards = (ctypes.c_int * _MAX_CARDS)()
        self.call('dcmi_get_card_list', ctypes.byref(count), cards, _MAX_CARDS)
        return list(cards[: count.value])

    def chips(self, card: int) -> int:
        count = ctypes.c_int()
        self.call('dcmi_get_device_num_in_card', card, ctypes.byref(count))
        return count.value


class DcmiBackend:
    """Discovers the Huawei Ascend NPUs of this host through DCMI."""

    name = 'dcmi'
    vendor_id = VENDOR_ID

    def __init__(
        self, library_path: str | None = None, library: object | None = None
    ) -> None:
        """:param library_path: load ``libdcmi.so`` from this path.
        :param library: an object implementing DCMI's C symbols (the
            simulated library); takes precedence over *library_path*.
        """
        self._library_path = library_path
        self._library = library
        self._lock = threading.Lock()

    def close(self) -> None:
        """DCMI has no shutdown call: nothing to release."""

    def discover(self) -> models.HostInventory:
        """Describe every NPU chip DCMI enumerates.

        :raises AcceleratorLibraryUnavailable: libdcmi.so is missing
            (``missing``), or DCMI cannot initialise or list the cards.
        """
        with self._session() as dcmi:
            try:
                dcmi.call('dcmi_init')
                cards = dcmi.cards()
            except DcmiError as err:
                raise _unavailable(err) from err
            driver_version = self._driver_version(dcmi)
            npus: list[models.HardwareGpu] = []
            unreachable: list[models.UnreachableGpu] = []
            for card in cards:
                try:
                    chips = dcmi.chips(card)
                except DcmiError as err:
                    LOG.warning(
                        'Ascend card %d cannot be listed: %s', card, err
                    )
                    unreachable.append(
                        models.UnreachableGpu(index=card, error=str(err))
                    )
                    continue
                for chip in range(chips):
                    index = len(npus) + len(unreachable)
                    dcmi.warnings = []
                    try:
                        npus.append(_describe(dcmi, index, card, chip))
                    except DcmiError as err:
                        LOG.warning(
                            'Ascend NPU %d-%d cannot be described: %s',
                            card,
                            chip,
                            err,
                        )
                        unreachable.append(
                            models.UnreachableGpu(index=index, error=str(err))
                        )
            return models.HostInventory(
                backend=self.name,
                driver_version=driver_version,
                gpus=tuple(npus),
                unreachable=tuple(unreachable),
                calls=dcmi.calls,
            )

    @contextlib.contextmanager
    def _session(self) -> Iterator[_Dcmi]:
        with self._lock:
            if self._library is None:
                self._library = load_library(self._library_path)
            yield _Dcmi(self._library)

    @staticmethod
    def _driver_version(dcmi: _Dcmi) -> str | None:
        buffer = ctypes.create_string_buffer(256)
        try:
            dcmi.call('dcmi_get_driver_version', buffer, len(buffer))
        except DcmiError as err:
            LOG.info('DCMI gives no driver version: %s', err)
            return None
        return buffer.value.decode('utf-8', 'replace') or None


def _unavailable(err: DcmiError) -> exception.AcceleratorLibraryUnavailable:
    hint = (
        'Run the agent as a user in the HwHiAiUser group or as root.'
        if err.code == OPER_NOT_PERMITTED
        else 'See "npu-smi info" and the Ascend driver logs.'
    )
    return exception.AcceleratorLibraryUnavailable(
        library='DCMI', error=str(err), hint=hint
    )


def _describe(
    dcmi: _Dcmi, index: int, card: int, chip: int
) -> models.HardwareGpu:
    info = ChipInfo()
    dcmi.call('dcmi_get_device_chip_info', card, chip, ctypes.byref(info))
    pcie = PcieInfoAll()
    dcmi.call('dcmi_get_device_pcie_info_v2', card, chip, ctypes.byref(pcie))
    chip_name = _text(info.chip_name)
    address = models.PciAddress(
        domain=pcie.domain,
        bus=pcie.bdf_busid,
        device=pcie.bdf_deviceid,
        function=pcie.bdf_funcid,
    )
    return models.HardwareGpu(
        vendor_id=VENDOR_ID,
        index=index,
        # The calls above give no UUID (DCMI has no such call in the
        # public header): card, chip and bus address name the NPU stably.
        uuid='NPU-%s-%d-%d-%s' % (VENDOR_ID, card, chip, address),
        name='%s%s' % (_text(info.chip_type), chip_name),
        pci_address=address,
        pci_device_id='%04x' % pcie.deviceid,
        memory_mib=_memory_mib(dcmi, card, chip),
        health=_health(dcmi, card, chip),
        partition_profiles=_templates(chip_name),
        warnings=tuple(dcmi.warnings),
    )


def _memory_mib(dcmi: _Dcmi, card: int, chip: int) -> int:
    """HBM on training chips (910 series), DDR on inference ones (310P)."""
    hbm = HbmInfo()
    if (
        dcmi.optional(
            'HBM', 'dcmi_get_device_hbm_info', card, chip, ctypes.byref(hbm)
        )
        and hbm.memory_size
    ):
        return int(hbm.memory_size)
    ddr = MemoryInfo()
    if dcmi.optional(
        'memory',
        'dcmi_get_device_memory_info_v3',
        card,
        chip,
        ctypes.byref(ddr),
    ):
        return int(ddr.memory_size)
    return 0


def _health(dcmi: _Dcmi, card: int, chip: int) -> models.Health:
    health = ctypes.c_uint()
    if not dcmi.optional(
        'health', 'dcmi_get_device_health', card, chip, ctypes.byref(health)
    ):
        return models.Health()
    if health.value in _HEALTHY:
        return models.Health()
    reasons = [_HEALTH_NAMES.get(health.value, 'health %d' % health.value)]
    count = ctypes.c_int()
    codes = (ctypes.c_uint * _MAX_ERROR_CODES)()
    if dcmi.optional(
        'error codes',
        'dcmi_get_device_errorcode_v2',
        card,
        chip,
        ctypes.byref(count),
        codes,
        _MAX_ERROR_CODES,
    ):
        reasons += [
            'error code 0x%08X' % code
            for code in codes[: min(count.value, _MAX_ERROR_CODES)]
        ]
    return models.Health.unhealthy(*reasons)


def _templates(chip_name: str) -> tuple[models.PartitionProfile, ...]:
    cores, templates = VNPU_TEMPLATES.get(chip_name, (0, ()))
    return tuple(
        models.PartitionProfile(name, 'vnpu', cores // used, memory)
        for name, used, memory in templates
    )

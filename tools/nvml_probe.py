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

"""What NVML answers on this host, next to what our simulation answers.

Run on a real GPU host (read-only: it changes no GPU setting)::

    python tools/nvml_probe.py --out DIR

It writes ``DIR/raw.json``: every NVML query that ``orionx_cyborg.gpu.nvml``
makes, per GPU, with its value or the NVML error (code and name), plus
a few that explain those answers (ECC mode, MIG profiles, BAR1, power
limits). Then ``DIR/inventory.json``: what the driver's NVML seam makes
of it. With ``--simulate MODEL_KEY`` it answers the same queries from the
simulated library of ``orionx_cyborg.gpu.fake`` for a host of that model
instead, so the two files can be compared side by side
(``tools/nvml_probe.py --simulate H200-SXM5-141GB --out sim``).
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import pathlib
import sys
from typing import Any

import pynvml

_DEVICE_QUERIES = (
    'nvmlDeviceGetName',
    'nvmlDeviceGetUUID',
    'nvmlDeviceGetPciInfo',
    'nvmlDeviceGetMemoryInfo',
    'nvmlDeviceGetBAR1MemoryInfo',
    'nvmlDeviceGetCudaComputeCapability',
    'nvmlDeviceGetNumaNodeId',
    'nvmlDeviceGetMigMode',
    'nvmlDeviceGetMaxMigDeviceCount',
    'nvmlDeviceGetVirtualizationMode',
    'nvmlDeviceGetHostVgpuMode',
    'nvmlDeviceGetSupportedVgpus',
    'nvmlDeviceGetCreatableVgpus',
    'nvmlDeviceGetRemappedRows',
    'nvmlDeviceGetSupportedEventTypes',
    'nvmlDeviceGetEccMode',
    'nvmlDeviceGetAttributes',
    'nvmlDeviceGetBoardPartNumber',
    'nvmlDeviceGetPowerManagementLimit',
    'nvmlDeviceGetPersistenceMode',
    'nvmlDeviceGetArchitecture',
)

_VGPU_TYPE_QUERIES = (
    'nvmlVgpuTypeGetName',
    'nvmlVgpuTypeGetClass',
    'nvmlVgpuTypeGetFramebufferSize',
    'nvmlVgpuTypeGetMaxInstances',
    'nvmlVgpuTypeGetGpuInstanceProfileId',
)


def _plain(value: Any) -> Any:
    """A JSON-able form of what pynvml returns."""
    if isinstance(value, bytes):
        return value.decode(errors='replace')
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, enum.Enum):
        return value.name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    fields = getattr(value, '_fields_', None)
    if fields:
        return {name: _plain(getattr(value, name)) for name, *_ in fields}
    try:
        return [_plain(v) for v in value]
    except TypeError:
        return repr(value)


def _ask(name: str, *args: Any) -> dict[str, Any]:
    fn = getattr(pynvml, name, None)
    if fn is None:
        return {'error': 'not in this pynvml'}
    try:
        return {'value': _plain(fn(*args))}
    except pynvml.NVMLError as err:
        return {'error': str(err), 'code': err.value}


def _vgpu_types(answers: dict[str, Any]) -> dict[str, Any]:
    ids: set[int] = set()
    for query in (
        'nvmlDeviceGetSupportedVgpus',
        'nvmlDeviceGetCreatableVgpus',
    ):
        ids.update(answers[query].get('value') or ())
    return {
        str(type_id): {q: _ask(q, type_id) for q in _VGPU_TYPE_QUERIES}
        for type_id in sorted(ids)
    }


def _mig_profiles(handle: Any) -> dict[str, Any]:
    profiles = {}
    for profile in range(pynvml.NVML_GPU_INSTANCE_PROFILE_COUNT):
        answer = _ask('nvmlDeviceGetGpuInstanceProfileInfo', handle, profile)
        if 'value' in answer:
            profiles[str(profile)] = answer
    return profiles


def _ecc_counts(handle: Any) -> dict[str, Any]:
    return {
        counter: _ask(
            'nvmlDeviceGetTotalEccErrors',
            handle,
            pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
            getattr(pynvml, counter),
        )
        for counter in ('NVML_VOLATILE_ECC', 'NVML_AGGREGATE_ECC')
    }


def probe() -> dict[str, Any]:
    """Every answer NVML gives to our queries on this host."""
    pynvml.nvmlInit()
    try:
        count = pynvml.nvmlDeviceGetCount()
        report: dict[str, Any] = {
            'driver_version': _ask('nvmlSystemGetDriverVersion'),
            'nvml_version': _ask('nvmlSystemGetNVMLVersion'),
            'cuda_driver_version': _ask('nvmlSystemGetCudaDriverVersion'),
            'device_count': count,
            'gpus': [],
        }
        for index in range(count):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            answers = {q: _ask(q, handle) for q in _DEVICE_QUERIES}
            answers['ecc_uncorrected'] = _ecc_counts(handle)
            answers['vgpu_types'] = _vgpu_types(answers)
            answers['mig_profiles'] = _mig_profiles(handle)
            report['gpus'].append(answers)
        return report
    finally:
        pynvml.nvmlShutdown()


def _inventory(library: object | None) -> Any:
    from orionx_cyborg.gpu import nvml

    backend = nvml.NvmlBackend(library=library)
    try:
        return _plain(backend.discover())
    finally:
        backend.close()


def _simulated_library(model_key: str) -> object:
    from orionx_cyborg.gpu.fake import catalogue
    from orionx_cyborg.gpu.fake import library
    from orionx_cyborg.gpu.fake import topology

    address = topology.default_address(0)
    gpu = topology.SimulatedGpu(
        model=catalogue.get_model(model_key),
        pci_address=address,
        uuid=topology.derived_uuid('probe', address),
    )
    host = topology.SimulatedHost(name='probe', gpus=(gpu,))
    return library.FakeNvmlLibrary(host)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=pathlib.Path, required=True)
    parser.add_argument(
        '--simulate',
        metavar='MODEL_KEY',
        help='Answer from the simulated NVML for one GPU of this model.',
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    library = _simulated_library(args.simulate) if args.simulate else None
    if library is not None:
        pynvml.nvmlLib = library
        pynvml._nvmlGetFunctionPointer_cache.clear()
    raw = probe()
    (args.out / 'raw.json').write_text(json.dumps(raw, indent=1) + '\n')
    try:
        inventory = _inventory(library)
    except Exception as err:  # noqa: BLE001 - recorded, not hidden
        inventory = {'error': '%s: %s' % (type(err).__name__, err)}
    (args.out / 'inventory.json').write_text(
        json.dumps(inventory, indent=1) + '\n'
    )
    print(json.dumps({'gpus': raw['device_count'], 'out': str(args.out)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())

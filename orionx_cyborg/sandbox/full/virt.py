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

"""``nova-compute`` of a full sandbox host, recording what Nova attaches.

Nova's fake virt driver takes the ``accel_info`` that the compute manager
hands a real driver (the server's ARQs, which libvirt turns into PCI or
mdev hostdevs) and keeps nothing of it. :func:`driver_class` is Nova's
``fake.FakeDriverWithoutFakeNodes`` that also appends one JSON line per
call that gets ``accel_info`` -- ``spawn`` (build, rebuild, evacuate,
unshelve), ``reboot`` and ``power_on`` -- to ``accel_info.jsonl`` in the
compute's ``state_path``: the call, the instance, the reboot type and,
per ARQ, what a driver would attach (:data:`RECORDED_KEYS`). Tests read
it with :func:`read_records`.

Nova loads a compute driver from its own package only
(``nova.virt.<compute_driver>``), so :func:`compute_main` registers the
driver as :data:`DRIVER_MODULE` before it runs Nova's ``nova-compute``.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import threading
import types
from typing import Any

DRIVER_MODULE = 'nova.virt.orionx_recording'
#: ``[DEFAULT] compute_driver`` of a sandbox host's nova-compute.
COMPUTE_DRIVER = 'orionx_recording.RecordingFakeDriver'
RECORD_NAME = 'accel_info.jsonl'
#: What the record keeps of each ARQ in ``accel_info``.
RECORDED_KEYS = (
    'uuid',
    'state',
    'hostname',
    'device_rp_uuid',
    'attach_handle_type',
    'attach_handle_info',
    'attach_handle_uuid',
)

_lock = threading.Lock()


def record(
    state_path: str | os.PathLike[str],
    call: str,
    instance: str,
    accel_info: Any,
    **extra: Any,
) -> None:
    """Append one call and the ARQs it got to the compute's record."""
    entry = dict(
        extra,
        call=call,
        instance=instance,
        accel_info=[
            {key: arq.get(key) for key in RECORDED_KEYS}
            for arq in accel_info or ()
        ],
    )
    line = json.dumps(entry, sort_keys=True) + '\n'
    with (
        _lock,
        open(
            pathlib.Path(state_path) / RECORD_NAME, 'a', encoding='utf-8'
        ) as stream,
    ):
        stream.write(line)


def read_records(
    state_path: str | os.PathLike[str], instance: str | None = None
) -> list[dict[str, Any]]:
    """The calls recorded by the compute whose state path is given."""
    path = pathlib.Path(state_path) / RECORD_NAME
    if not path.exists():
        return []
    entries = [
        json.loads(line)
        for line in path.read_text(encoding='utf-8').splitlines()
        if line.strip()
    ]
    return [e for e in entries if instance in (None, e['instance'])]


def driver_class() -> type:
    """Nova's fake driver, recording ``accel_info`` (imports Nova)."""
    import nova.conf
    from nova.virt import fake

    conf = nova.conf.CONF

    class RecordingFakeDriver(fake.FakeDriverWithoutFakeNodes):  # type: ignore[misc]
        def spawn(
            self,
            context: Any,
            instance: Any,
            image_meta: Any,
            injected_files: Any,
            admin_password: Any,
            allocations: Any,
            network_info: Any = None,
            block_device_info: Any = None,
            power_on: bool = True,
            accel_info: Any = None,
        ) -> None:
            record(conf.state_path, 'spawn', instance.uuid, accel_info)
            super().spawn(
                context,
                instance,
                image_meta,
                injected_files,
                admin_password,
                allocations,
                network_info=network_info,
                block_device_info=block_device_info,
                power_on=power_on,
                accel_info=accel_info,
            )

        def reboot(
            self,
            context: Any,
            instance: Any,
            network_info: Any,
            reboot_type: str,
            block_device_info: Any = None,
            bad_volumes_callback: Any = None,
            accel_info: Any = None,
            share_info: Any = None,
        ) -> None:
            record(
                conf.state_path,
                'reboot',
                instance.uuid,
                accel_info,
                reboot_type=reboot_type,
            )
            super().reboot(
                context,
                instance,
                network_info,
                reboot_type,
                block_device_info=block_device_info,
                bad_volumes_callback=bad_volumes_callback,
                accel_info=accel_info,
                share_info=share_info,
            )

        def power_on(
            self,
            context: Any,
            instance: Any,
            network_info: Any,
            block_device_info: Any = None,
            accel_info: Any = None,
            share_info: Any = None,
        ) -> None:
            if accel_info is not None:
                record(conf.state_path, 'power_on', instance.uuid, accel_info)
            super().power_on(
                context,
                instance,
                network_info,
                block_device_info=block_device_info,
                accel_info=accel_info,
                share_info=share_info,
            )

    return RecordingFakeDriver


def install() -> None:
    """Make :data:`COMPUTE_DRIVER` loadable by Nova's driver loader."""
    if DRIVER_MODULE in sys.modules:
        return
    module = types.ModuleType(DRIVER_MODULE)
    module.RecordingFakeDriver = driver_class()  # type: ignore[attr-defined]
    sys.modules[DRIVER_MODULE] = module


def compute_main() -> Any:
    """``nova-compute`` with the recording driver installed."""
    # nova.cmd first: it picks Nova's concurrency mode before the driver
    # module imports the rest of Nova.
    from nova.cmd import compute

    install()
    return compute.main()

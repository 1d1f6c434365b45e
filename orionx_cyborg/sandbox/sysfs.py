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

"""A simulated mdev bus: what Cyborg's agent writes to sysfs at bind time.

Cyborg's agent creates a mediated device when an ``MDEV`` attach handle is
bound (``create_vgpu_mdev``: write the handle UUID to
``/sys/class/mdev_bus/<parent>/mdev_supported_types/<type>/create``) and
removes it at unbind. A sandbox host keeps a private tree under its own
``sysfs_root`` instead of ``/sys``, laid out like the kernel's:

* ``class/mdev_bus/<parent>/mdev_supported_types/<type>/`` with
  ``available_instances``, ``name``, ``device_api`` and ``devices/``;
* ``bus/mdev/devices/<uuid>/`` for each created device, with
  ``mdev_type`` and ``parent``; the type's ``devices/<uuid>`` links to it.

Writing to a type that the host does not have fails as the kernel would
(the ``create`` file does not exist), so a bind routed to the wrong host
fails instead of passing silently.
"""

from __future__ import annotations

import errno
import os
import pathlib
import shutil


def mdev_type_dir(
    sysfs_root: str | os.PathLike[str], parent: str, mdev_type: str
) -> pathlib.Path:
    """The type directory of *parent*.

    On a real host ``class/mdev_bus/<parent>`` links to the PCI device's
    directory; a simulated tree may have only the latter
    (``bus/pci/devices/<parent>``, as orionx's fake sysfs renders it).
    """
    root = pathlib.Path(sysfs_root)
    parent_dir = root / 'class' / 'mdev_bus' / parent
    if not parent_dir.exists():
        pci_dir = root / 'bus' / 'pci' / 'devices' / parent
        if pci_dir.exists():
            parent_dir = pci_dir
    return parent_dir / 'mdev_supported_types' / mdev_type


def mdev_device_dir(
    sysfs_root: str | os.PathLike[str], mdev_uuid: str
) -> pathlib.Path:
    return pathlib.Path(sysfs_root) / 'bus' / 'mdev' / 'devices' / mdev_uuid


def materialise_mdev_type(
    sysfs_root: str | os.PathLike[str],
    parent: str,
    mdev_type: str,
    instances: int,
    name: str,
) -> None:
    """Create the type directory of a parent device, once.

    An existing directory is left alone: its ``available_instances``
    already accounts for the mdevs created since.
    """
    type_dir = mdev_type_dir(sysfs_root, parent, mdev_type)
    if type_dir.exists():
        return
    (type_dir / 'devices').mkdir(parents=True)
    (type_dir / 'available_instances').write_text('%d\n' % instances)
    (type_dir / 'name').write_text(name + '\n')
    (type_dir / 'device_api').write_text('vfio-pci\n')
    (type_dir / 'create').write_text('')


def create_mdev(
    sysfs_root: str | os.PathLike[str],
    parent: str,
    mdev_type: str,
    mdev_uuid: str,
) -> None:
    type_dir = mdev_type_dir(sysfs_root, parent, mdev_type)
    if not type_dir.is_dir():
        raise FileNotFoundError(
            errno.ENOENT, 'no such mdev type', str(type_dir / 'create')
        )
    available = _available_instances(type_dir)
    if available is not None and available <= 0:
        raise OSError(errno.ENOSPC, 'no available instances', str(type_dir))
    device_dir = mdev_device_dir(sysfs_root, mdev_uuid)
    if device_dir.exists():
        raise FileExistsError(errno.EEXIST, 'mdev exists', str(device_dir))
    device_dir.mkdir(parents=True)
    (device_dir / 'mdev_type').write_text(mdev_type + '\n')
    (device_dir / 'parent').write_text(parent + '\n')
    (type_dir / 'devices').mkdir(exist_ok=True)
    (type_dir / 'devices' / mdev_uuid).symlink_to(device_dir)
    if available is not None:
        _set_available_instances(type_dir, available - 1)


def remove_mdev(
    sysfs_root: str | os.PathLike[str],
    parent: str,
    mdev_type: str,
    mdev_uuid: str,
) -> None:
    type_dir = mdev_type_dir(sysfs_root, parent, mdev_type)
    entry = type_dir / 'devices' / mdev_uuid
    if entry.is_symlink():
        entry.unlink()
    elif entry.is_dir():
        # Rendered from the topology by the driver's simulated sysfs,
        # which lists a type's devices as directories.
        shutil.rmtree(entry)
    else:
        raise FileNotFoundError(errno.ENOENT, 'no such mdev', str(entry))
    shutil.rmtree(mdev_device_dir(sysfs_root, mdev_uuid), ignore_errors=True)
    available = _available_instances(type_dir)
    if available is not None:
        _set_available_instances(type_dir, available + 1)


def mdev_exists(sysfs_root: str | os.PathLike[str], mdev_uuid: str) -> bool:
    return mdev_device_dir(sysfs_root, mdev_uuid).is_dir()


def _available_instances(type_dir: pathlib.Path) -> int | None:
    """None when the tree does not count instances (no limit)."""
    try:
        return int((type_dir / 'available_instances').read_text().strip())
    except FileNotFoundError:
        return None


def _set_available_instances(type_dir: pathlib.Path, value: int) -> None:
    (type_dir / 'available_instances').write_text('%d\n' % value)

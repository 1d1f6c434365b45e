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

"""Mediated devices of a sandbox host, recorded in its topology.

A simulated host's topology file is the one source of truth for its
hardware: ``orionx_gpu_driver`` renders the host's sysfs tree again
whenever the file changes, so an mdev written only into the tree would
vanish at the first agent cycle after any topology edit (a GPU lost, NVML
failing). Whoever creates or removes an mdev on a sandbox host (Cyborg's
agent at bind and unbind, the Nova stand-in when Cyborg's mdev is
missing) therefore records it in the topology
(:func:`~orionx_cyborg.gpu.fake.topology.with_mdev`,
:func:`~orionx_cyborg.gpu.fake.topology.without_mdev`) *and* writes the
tree at once, so the mdev is visible before the next discovery, as on a
real host right after the write to ``create``.

Several threads of the Cyborg process and the Nova stand-in's process
edit the same file, each by load, change, dump: :func:`edited_topology`
holds an exclusive ``flock`` for the whole edit. Tests that edit a
topology use it too.

A host without a topology (a driver keeping its own tree) only gets the
tree write.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
from collections.abc import Callable
from collections.abc import Iterator

from orionx_cyborg.gpu.fake import topology
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import sysfs

TopologyChange = Callable[[topology.SimulatedHost], topology.SimulatedHost]


@contextlib.contextmanager
def topology_lock(path: str) -> Iterator[None]:
    """Exclusive use of the topology file *path*.

    ``flock`` on a file description of our own excludes other processes
    and the other threads of this one alike (each opens its own).
    """
    with open(path + '.lock', 'a', encoding='utf-8') as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def edit_topology(path: str, host: str, change: TopologyChange) -> None:
    """Apply *change* to the topology file *path* of *host*, locked."""
    with topology_lock(path):
        before = topology.load(path, host)
        after = change(before)
        if after != before:
            topology.dump(after, path)


def _gpu_of(host: topology.SimulatedHost, parent: str) -> str:
    gpu = topology.gpu_of_function(host, parent)
    if gpu is None:
        raise FileNotFoundError(
            errno.ENOENT, 'no simulated GPU has the PCI function', parent
        )
    return gpu


def create(
    host: layout.HostEntry, parent: str, mdev_type: str, mdev_uuid: str
) -> None:
    """Create an mdev as the kernel would, and record it.

    The tree write comes first: it fails as the kernel does (no such
    type on that function, no instance left), and then nothing is
    recorded.
    """
    sysfs.create_mdev(host.sysfs_root, parent, mdev_type, mdev_uuid)
    if host.topology_file is None:
        return

    def add(simulated: topology.SimulatedHost) -> topology.SimulatedHost:
        return topology.with_mdev(
            simulated,
            _gpu_of(simulated, parent),
            mdev_uuid,
            mdev_type,
            parent,
        )

    try:
        edit_topology(host.topology_file, host.name, add)
    except BaseException:
        sysfs.remove_mdev(host.sysfs_root, parent, mdev_type, mdev_uuid)
        raise


def remove(
    host: layout.HostEntry, parent: str, mdev_type: str, mdev_uuid: str
) -> None:
    """Remove an mdev from the topology and the tree.

    :raises FileNotFoundError: neither had it.
    """
    recorded = False
    if host.topology_file is not None:
        recorded = is_recorded(host, mdev_uuid)
        edit_topology(
            host.topology_file,
            host.name,
            lambda simulated: topology.without_mdev(simulated, mdev_uuid),
        )
    try:
        sysfs.remove_mdev(host.sysfs_root, parent, mdev_type, mdev_uuid)
    except FileNotFoundError:
        # The driver re-rendered the tree since, or its rendering is
        # still to come: the topology was enough.
        if not recorded:
            raise


def is_recorded(host: layout.HostEntry, mdev_uuid: str) -> bool:
    """Whether the host's topology has the mdev (False without one)."""
    if host.topology_file is None:
        return False
    # No lock: dump replaces the file atomically.
    simulated = topology.load(host.topology_file, host.name)
    return any(mdev_uuid in gpu.mdevs for gpu in simulated.gpus)


def exists(host: layout.HostEntry, mdev_uuid: str) -> bool:
    """Whether the host has the mdev: recorded, or written to its tree."""
    return is_recorded(host, mdev_uuid) or sysfs.mdev_exists(
        host.sysfs_root, mdev_uuid
    )

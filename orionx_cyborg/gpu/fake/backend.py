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

"""A GPU backend for simulated hosts: real NVML seam, simulated library.

Used when ``[orionx_gpu] fake_topology`` is set (gate jobs, the sandbox,
``orionx-cyborg discover --simulate``). Each discovery reads the topology
again, so editing the file changes the simulated hardware; the simulated
sysfs tree is re-rendered when the topology changes.
"""

from __future__ import annotations

import dataclasses
import os

from orionx_cyborg import exception
from orionx_cyborg.gpu import amd
from orionx_cyborg.gpu import ascend
from orionx_cyborg.gpu import backends
from orionx_cyborg.gpu import models
from orionx_cyborg.gpu import mthreads
from orionx_cyborg.gpu import nvml
from orionx_cyborg.gpu.fake import amd as fake_amd
from orionx_cyborg.gpu.fake import ascend as fake_ascend
from orionx_cyborg.gpu.fake import library
from orionx_cyborg.gpu.fake import mthreads as fake_mthreads
from orionx_cyborg.gpu.fake import sysfs as fake_sysfs
from orionx_cyborg.gpu.fake import topology


class SimulatedBackend:
    """NvmlBackend over a FakeNvmlLibrary that follows a topology."""

    name = 'nvml (simulated)'

    def __init__(
        self,
        topology_spec: str,
        host: str,
        sysfs_root: str,
        ignored_xids: frozenset[int] = nvml.APPLICATION_XIDS,
    ) -> None:
        """:param topology_spec: built-in host name or topology file path.
        :param sysfs_root: where the simulated sysfs tree is rendered.
        """
        self.topology_spec = topology_spec
        self.host_name = host
        self.sysfs_root = sysfs_root
        self._host: topology.SimulatedHost | None = None
        self._source: tuple[int, int, int] | None = None
        self.library = library.FakeNvmlLibrary(
            topology.SimulatedHost(name=host)
        )
        self._nvml = nvml.NvmlBackend(
            library=self.library, ignored_xids=ignored_xids
        )

    def refresh(self) -> topology.SimulatedHost:
        """Load the topology; render sysfs and reload NVML if it changed.

        :raises NvmlUnavailable: if the topology cannot be loaded.
        """
        source = self._source_version()
        if (
            self._host is not None
            and source == self._source
            and os.path.isdir(self.sysfs_root)
        ):
            return self._host
        try:
            host = topology.load(self.topology_spec, self.host_name)
        except topology.TopologyError as err:
            raise exception.NvmlUnavailable(
                error='simulated host %s: %s' % (self.topology_spec, err),
                hint='Fix [orionx_gpu] fake_topology.',
            ) from err
        if host != self._host or not os.path.isdir(self.sysfs_root):
            fake_sysfs.write_tree(host, self.sysfs_root)
            self.library.load(host)
            self._host = host
        self._source = source
        return host

    def _source_version(self) -> tuple[int, int, int] | None:
        """Identity of the topology file's content, to skip re-parsing."""
        try:
            stat = os.stat(self.topology_spec)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def discover(self) -> models.HostInventory:
        host = self.refresh()
        others = _other_vendor_backends(host)
        if not others:
            inventory = self._nvml.discover()
            return dataclasses.replace(inventory, backend=self.name)
        inventory = backends.MultiVendorBackend(
            [self._nvml, *others]
        ).discover()
        return dataclasses.replace(
            inventory, backend='%s (simulated)' % inventory.backend
        )

    def close(self) -> None:
        self._nvml.close()


def _other_vendor_backends(
    host: topology.SimulatedHost,
) -> list[backends.GpuBackend]:
    """The seams of the host's other vendors, over simulated libraries.

    Built afresh for every pass: they keep no session between passes.
    """
    states = host.vendor_library_states
    seams: list[backends.GpuBackend] = []
    if host.amd_gpus:
        seams.append(
            amd.AmdSmiBackend(
                library=fake_amd.FakeAmdSmiLibrary(
                    fake_amd.amd_host(
                        *host.amd_gpus,
                        name=host.name,
                        library=states.get('amdsmi', 'ok'),
                    )
                )
            )
        )
    if host.ascend_cards:
        seams.append(
            ascend.DcmiBackend(
                library=fake_ascend.FakeDcmiLibrary(
                    fake_ascend.ascend_host(
                        *host.ascend_cards, library=states.get('dcmi', 'ok')
                    )
                )
            )
        )
    if host.mthreads_gpus:
        seams.append(
            mthreads.MtmlBackend(
                library=fake_mthreads.FakeMtmlLibrary(
                    fake_mthreads.mthreads_host(
                        *host.mthreads_gpus, library=states.get('mtml', 'ok')
                    )
                )
            )
        )
    return seams

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

"""GPU backends: the interface and the factory the driver uses.

NVIDIA through NVML is the first backend; other vendors' accelerators
(sysfs PCI discovery plus their own management libraries) plug in here
by producing the same :class:`~orionx_cyborg.gpu.models.HostInventory`.
"""

from __future__ import annotations

import os
from typing import Protocol

from orionx_cyborg.gpu import models


class GpuBackend(Protocol):
    """Discovers the accelerators of this host."""

    name: str

    def discover(self) -> models.HostInventory:
        """Describe the accelerators.

        :raises NvmlUnavailable: the backend cannot work at all now.
        """

    def close(self) -> None:
        """Release the library."""


def simulated_sysfs_root(state_dir: str, host: str) -> str:
    """Where a simulated host's sysfs tree is rendered."""
    return os.path.join(state_dir, 'simulated-sysfs-%s' % host)


def make_backend(
    host: str,
    state_dir: str,
    nvml_library: str | None = None,
    fake_topology: str | None = None,
    ignored_xids: frozenset[int] | None = None,
) -> tuple[GpuBackend, str | None]:
    """The backend for a host, and its own sysfs root if it has one.

    A simulated host (*fake_topology*) renders its sysfs tree under
    *state_dir*; the real backend reads the configured sysfs root.
    """
    from orionx_cyborg.gpu import nvml

    xids = nvml.APPLICATION_XIDS if ignored_xids is None else ignored_xids
    if fake_topology:
        # Imported here: production hosts never load the simulation.
        from orionx_cyborg.gpu.fake import backend as fake_backend

        sysfs_root = simulated_sysfs_root(state_dir, host)
        simulated = fake_backend.SimulatedBackend(
            fake_topology, host, sysfs_root, ignored_xids=xids
        )
        return simulated, sysfs_root
    return nvml.NvmlBackend(library_path=nvml_library, ignored_xids=xids), None

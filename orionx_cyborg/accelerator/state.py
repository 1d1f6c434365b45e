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

"""The driver's memory of its last good report, kept on disk.

Cyborg deletes whatever a report leaves out, and Placement refuses to
delete a resource provider that holds allocations (after which every
report of the host fails). So the driver remembers what it reported last,
per host, under ``[orionx_gpu] state_dir``: a GPU that vanishes is
reported again from here (marked unhealthy) until it is drained and an
operator lets it go, and when NVML fails as a whole the last report is
sent again as stubs, which Cyborg's conductor leaves untouched.

The file also carries operators' requests, written by the
``orionx-cyborg gpu`` commands while the agent runs: GPUs to forget and
sticky health marks (Xid errors) to keep or clear. Writes are atomic
(write, fsync, rename) and serialised with an advisory lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from typing import Any

from orionx_cyborg import exception
from orionx_cyborg.accelerator import spec

FORMAT_VERSION = 1


@dataclasses.dataclass(frozen=True)
class DriverState:
    devices: dict[str, spec.DeviceSpec] = dataclasses.field(
        default_factory=dict
    )
    """The last reported (non-stub) devices, by key."""
    sticky_health: dict[str, tuple[str, ...]] = dataclasses.field(
        default_factory=dict
    )
    """Unhealthy reasons that stay until cleared, by PCI address."""
    forget: frozenset[str] = frozenset()
    """PCI addresses of lost GPUs an operator asked to stop reporting."""

    def to_dict(self, host: str) -> dict[str, Any]:
        return {
            'version': FORMAT_VERSION,
            'host': host,
            'devices': {
                key: device.to_dict()
                for key, device in sorted(self.devices.items())
            },
            'sticky_health': {
                address: list(reasons)
                for address, reasons in sorted(self.sticky_health.items())
            },
            'forget': sorted(self.forget),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriverState:
        if data.get('version') != FORMAT_VERSION:
            raise ValueError(
                'unsupported state format %r' % data.get('version')
            )
        return cls(
            devices={
                key: spec.DeviceSpec.from_dict(device)
                for key, device in data.get('devices', {}).items()
            },
            sticky_health={
                address: tuple(reasons)
                for address, reasons in data.get('sticky_health', {}).items()
            },
            forget=frozenset(data.get('forget', ())),
        )


class StateStore:
    """The state file of one host."""

    def __init__(self, directory: str, host: str) -> None:
        self.directory = directory
        self.host = host
        safe_host = ''.join(
            c if c.isalnum() or c in '-_.' else '_' for c in host
        )
        self.path = os.path.join(directory, '%s.json' % safe_host)
        self._lock_path = self.path + '.lock'
        # The file changes only when this store or an operator's command
        # writes it: parse it again only then.
        self._cached: tuple[tuple[int, int, int], DriverState] | None = None

    def load(self) -> DriverState:
        """Read the state; an absent file is an empty state.

        :raises StateError: if the file exists but cannot be used.
        """
        try:
            version = _version(self.path)
            if self._cached is not None and self._cached[0] == version:
                return self._cached[1]
            with open(self.path, encoding='utf-8') as stream:
                data = json.load(stream)
            state = DriverState.from_dict(data)
        except FileNotFoundError:
            return DriverState()
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise exception.StateError(path=self.path, error=err) from err
        self._cached = (version, state)
        return state

    def save(self, state: DriverState) -> None:
        """Write the state atomically.

        :raises StateError: if it cannot be written.
        """
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix='.%s.' % os.path.basename(self.path),
                dir=self.directory,
            )
            try:
                with os.fdopen(fd, 'w', encoding='utf-8') as stream:
                    json.dump(
                        state.to_dict(self.host),
                        stream,
                        indent=1,
                        sort_keys=True,
                    )
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(tmp, self.path)
                self._cached = (_version(self.path), state)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as err:
            raise exception.StateError(path=self.path, error=err) from err

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the advisory lock that serialises read-modify-write."""
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as err:
            raise exception.StateError(
                path=self._lock_path, error=err
            ) from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _version(path: str) -> tuple[int, int, int]:
    stat = os.stat(path)
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

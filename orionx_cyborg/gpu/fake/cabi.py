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

"""What every simulated vendor library shares: its C calling convention.

A vendor's Python binding looks C symbols up by name on a library object
and reads an integer return code from each call, results coming back
through pointer arguments. :class:`SimulatedLibrary` answers those
look-ups from a table of implementations ``fn(library, name, *args)``;
an implementation fails by raising :class:`ReturnCode`, which becomes the
call's return code. :class:`Injections` are the failures a test asks for.
"""

from __future__ import annotations

import collections
import ctypes
import dataclasses
import threading
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

#: The return code of a call that succeeded, in every vendor's library.
SUCCESS = 0


class ReturnCode(Exception):
    """Carries a C return code out of a simulated call."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclasses.dataclass
class _Injection:
    symbol: str
    code: int
    pci_address: str | None
    remaining: int | None


class Injections:
    """Failures injected into calls of given symbols."""

    def __init__(self) -> None:
        self._items: list[_Injection] = []

    def add(
        self,
        symbol: str,
        code: int,
        pci_address: str | None = None,
        times: int | None = None,
    ) -> None:
        """Make *symbol* return *code*.

        :param pci_address: only for calls about this device.
        :param times: only the next *times* calls; forever when None.
        """
        self._items.append(_Injection(symbol, code, pci_address, times))

    def check(
        self, symbol: str, address: str | None, error: type[ReturnCode]
    ) -> None:
        """Raise *error* with the code injected for this call, if any."""
        for injection in self._items:
            if injection.symbol != symbol:
                continue
            if injection.pci_address not in (None, address):
                continue
            if injection.remaining is not None:
                if injection.remaining <= 0:
                    continue
                injection.remaining -= 1
            raise error(injection.code)


class SimulatedLibrary:
    """A C library whose symbols are Python implementations.

    Calls are serialised, as the vendors' libraries serialise them.
    """

    def __init__(self, symbols: Mapping[str, Callable[..., None]]) -> None:
        self._symbols = symbols
        self._lock = threading.RLock()
        self._absent: set[str] = set()
        #: Calls per C symbol, for benchmarks and tests.
        self.calls: collections.Counter[str] = collections.Counter()

    def remove(self, symbol: str) -> None:
        """Lose *symbol*, as an older library that lacks it."""
        self._absent.add(symbol)

    def _before_call(self, name: str) -> None:
        """Raise :class:`ReturnCode` to fail a call before it runs."""

    def __getattr__(self, name: str) -> Any:
        # Only C symbols are looked up here; a private attribute that is
        # missing (early in __init__) must not recurse into this method.
        if name.startswith('_'):
            raise AttributeError(name)
        implementation = self._symbols.get(name)
        if implementation is None or name in self._absent:
            raise AttributeError(name)

        def symbol(*args: Any) -> int:
            with self._lock:
                self.calls[name] += 1
                try:
                    self._before_call(name)
                    implementation(self, name, *args)
                except ReturnCode as err:
                    return err.code
                return SUCCESS

        return symbol


def write_handle(out: Any, value: int) -> None:
    """Store a pointer value through ``byref(<handle type>())``."""
    target = out._obj
    pointer = ctypes.c_void_p(value)
    ctypes.memmove(
        ctypes.addressof(target),
        ctypes.addressof(pointer),
        ctypes.sizeof(ctypes.c_void_p),
    )

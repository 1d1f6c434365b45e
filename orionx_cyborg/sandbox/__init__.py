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

"""A small but real OpenStack for functional tests and evaluation.

The sandbox runs, on 127.0.0.1 with free ports and everything under one
state directory:

* the real **Placement** (``openstack-placement``) on SQLite with
  ``noauth2``, in its own process;
* the real **Cyborg** (``openstack-cyborg``): API under ``/accelerator``,
  conductor and **one agent per host**, all in one process over
  oslo.messaging's in-memory ``fake://`` transport, on SQLite, behind a
  no-auth filter that maps tokens to identities;
* a **Nova stand-in** that makes Nova's calls: compute nodes in
  Placement, device profile to request groups, allocation candidates,
  claims, ARQ create and bind, the ``accelerator-request-bound`` event,
  attach by handle type, and delete, shelve, unshelve and evacuate;
* **orionx-cyborg-attach**, the remote-attach service (no-auth API,
  SQLite ledger), Nova's DynamicJSON vendordata target; optionally
  Cyborg's conductor admits pooled vGPUs through it (strict admission).

Each service can be stopped, killed and started again on its own port,
which the fault tests of the attach service do.

Why several agents in one process, not the stock ``cyborg-api``,
``cyborg-conductor`` and ``cyborg-agent`` processes over a private
RabbitMQ (both prototyped on the 2-core development machine):

* start-up: the planned three-host fleet is ready, devices reported, in
  4.8-5.6 s; the RabbitMQ prototype needed 3.7-4.6 s for the broker alone
  and 8.0-9.5 s until three agents with one fake device each had reported;
* memory: 263 MB for the three sandbox processes against 461 MB for the
  broker, conductor and three agents of the prototype;
* a fresh machine: no root and no system package (RabbitMQ needs
  ``apt-get install rabbitmq-server`` and Erlang);
* fidelity: Cyborg's own API, conductor, agent manager and resource
  tracker code runs either way, but the stock ``cyborg-api`` of 17.0.0
  refuses to start under the threading backend (it needs a WSGI server
  anyway), and the stock agent writes mdevs to the real ``/sys`` through
  privsep and sudo, so it would need patching too.

What the sandbox does not exercise is message-bus routing between
processes. Each host still has its own agent manager, resource tracker,
driver instances and configuration, and its own RPC server (``server=<host>``)
on the in-memory transport, so mdev binds reach the right host.
``doc/source/sandbox.rst`` has the details and how the figures were taken.

Entry points: :class:`~orionx_cyborg.sandbox.stack.Sandbox` (a context
manager) for tests, :func:`orionx_cyborg.sandbox.cli.main` for the
``orionx-cyborg sandbox up|down|status|demo`` command and
``python -m orionx_cyborg.sandbox``.
"""

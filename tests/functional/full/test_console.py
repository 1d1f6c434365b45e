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

"""The pool console in a real browser, on the full sandbox.

Horizon 27 with the plugin (:mod:`tests.functional.full.horizon_site`,
Django's development server) talks to the sandbox's real Keystone,
attach service and Placement; headless Chromium from the distribution
(``/usr/bin/chromium``, driven through ``/usr/bin/chromedriver`` by
Selenium; nothing is downloaded) logs in through Keystone as the operator
and as the demo project's member. The screenshots of each page go to
``doc/source/figures/console-*.png`` (or ``$ORIONX_CONSOLE_SCREENSHOTS``).

Without Chromium the tests are skipped, unless ``ORIONX_REQUIRE_BROWSER=1``
(CI) makes that a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest

from orionx_cyborg.sandbox import wsgi
from orionx_cyborg.sandbox.full import clouds
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack
from tests.functional import helpers
from tests.functional.full import test_full

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
REQUIRE_ENV = 'ORIONX_REQUIRE_BROWSER'
SCREENSHOTS_ENV = 'ORIONX_CONSOLE_SCREENSHOTS'
ROOT = pathlib.Path(__file__).resolve().parents[3]
FIGURES = ROOT / 'doc' / 'source' / 'figures'
#: Seconds Horizon may take to answer its first page (it compiles its
#: stylesheets on the first request).
START_TIMEOUT = 180
PAGE_TIMEOUT = 120
ADMIN_PANEL = '/admin/orionx_gpu_pools/'
PROJECT_PANEL = '/project/orionx_gpus/'
CHROMIUM_FLAGS = (
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    '--window-size=1280,1600',
)


def _missing_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return '%s is not installed' % path
    try:
        import horizon  # noqa: F401
        import selenium  # noqa: F401
    except ImportError as err:
        return 'console-requirements.txt is not installed: %s' % err
    return None


# Autouse: without a browser the module skips before the sandbox starts.
@pytest.fixture(scope='module', autouse=True)
def browser_available() -> None:
    missing = _missing_browser()
    if missing is None:
        return
    if os.environ.get(REQUIRE_ENV) == '1':
        pytest.fail(
            '%s (and %s=1 requires the browser tests)' % (missing, REQUIRE_ENV)
        )
    pytest.skip(missing)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.fixture(scope='module')
def horizon(
    browser_available: None,
    full_sandbox: stack.FullSandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """Horizon with the plugin, on a free port; its base URL."""
    state = tmp_path_factory.mktemp('horizon')
    port = wsgi.free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE='tests.functional.full.horizon_site.settings',
        ORIONX_HORIZON_STATE=str(state),
        ORIONX_HORIZON_KEYSTONE_URL=full_sandbox.manifest.auth_url,
        PYTHONPATH=str(ROOT),
    )
    log = (state / 'runserver.log').open('w')
    process = subprocess.Popen(
        [
            sys.executable,
            '-m',
            'django',
            'runserver',
            '--noreload',
            '--insecure',
            '127.0.0.1:%d' % port,
        ],
        cwd=str(ROOT),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = 'http://127.0.0.1:%d' % port
    try:
        helpers.wait_for(
            lambda: (
                process.poll() is not None or _answers(base + '/auth/login/')
            ),
            timeout=START_TIMEOUT,
            what='Horizon to answer',
        )
        assert process.poll() is None, (state / 'runserver.log').read_text()
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope='module')
def screenshots() -> pathlib.Path:
    target = pathlib.Path(os.environ.get(SCREENSHOTS_ENV) or FIGURES)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def browser(browser_available: None) -> Iterator[Callable[[], Any]]:
    """Start headless Chromium sessions (each with its own profile)."""
    from selenium import webdriver
    from selenium.webdriver.chrome import service

    drivers: list[Any] = []
    profiles: list[str] = []

    def start() -> Any:
        profile = tempfile.mkdtemp(prefix='orionx-chromium-')
        profiles.append(profile)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument('--user-data-dir=%s' % profile)
        driver = webdriver.Chrome(
            options=options, service=service.Service(CHROMEDRIVER)
        )
        driver.set_page_load_timeout(PAGE_TIMEOUT)
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        with contextlib.suppress(Exception):
            driver.quit()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


def login(driver: Any, base: str, user: str, password: str) -> None:
    """Log in through Horizon's form (Keystone checks the password)."""
    from selenium.webdriver.common.by import By

    driver.get(base + '/auth/login/')
    driver.find_element(By.ID, 'id_username').send_keys(user)
    driver.find_element(By.ID, 'id_password').send_keys(password)
    driver.find_element(By.ID, 'loginBtn').click()
    _wait(driver, lambda d: '/auth/login' not in d.current_url, 'login')


def _wait(driver: Any, predicate: Callable[[Any], Any], what: str) -> Any:
    from selenium.webdriver.support import ui

    return ui.WebDriverWait(driver, PAGE_TIMEOUT).until(
        predicate, message='waiting for %s' % what
    )


def _css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def _no_alerts(driver: Any) -> None:
    alerts = [a.text for a in _css(driver, '.orionx-forbidden, .orionx-error')]
    assert not alerts, alerts


def _shoot(driver: Any, where: pathlib.Path, name: str) -> None:
    # As tall as the page, so the figure shows all of it.
    height = driver.execute_script(
        'return document.documentElement.scrollHeight'
    )
    driver.set_window_size(1280, max(800, min(int(height) + 40, 4000)))
    time.sleep(0.3)
    driver.save_screenshot(str(where / ('console-%s.png' % name)))


@pytest.fixture(scope='module')
def pooled_server(
    full_sandbox: stack.FullSandbox, admin: Any, demo: Any
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A demo server with a pooled vGPU, and its lease (admin's view)."""
    name = helpers.unique('console')
    admin.accelerator.create_device_profile(
        name=name, groups=[test_full.POOLED]
    )
    flavor = admin.compute.create_flavor(
        name=name, vcpus=1, ram=512, disk=1, is_public=True
    )
    admin.compute.create_flavor_extra_specs(
        flavor, {'accel:device_profile': name}
    )
    booted: list[str] = []
    try:
        server = test_full.boot(
            demo, flavor, full_sandbox.manifest.image_id, booted
        )
        # The guest asks for its binding (Nova's metadata API, as
        # Neutron's proxy asks): the lease is placed then.
        answer = test_full.metadata_vendordata(
            full_sandbox, server.id, server.project_id
        )
        assert answer.status_code == 200, answer.text
        [lease] = test_full.leases_of(full_sandbox, server.id)
        assert lease['state'] == 'active', lease
        yield server, lease
    finally:
        for server_id in booted:
            admin.compute.delete_server(server_id, ignore_missing=True)
            found = admin.compute.find_server(
                server_id, ignore_missing=True, all_projects=True
            )
            if found is not None:
                admin.compute.wait_for_delete(found, wait=120)
        if booted:
            test_full.attach_call(full_sandbox, 'POST', '/v1/reconcile')
        admin.compute.delete_flavor(flavor, ignore_missing=True)
        admin.accelerator.delete_device_profile(name)


def test_member_sees_only_its_projects_gpus(
    full_sandbox: stack.FullSandbox,
    horizon: str,
    browser: Callable[[], Any],
    screenshots: pathlib.Path,
    pooled_server: tuple[Any, dict[str, Any]],
) -> None:
    server, lease = pooled_server
    driver = browser()
    login(driver, horizon, 'demo', full_sandbox.manifest.passwords['demo'])
    driver.get(horizon + PROJECT_PANEL)
    _wait(
        driver,
        lambda d: _css(d, '#orionx-project-gpus'),
        'the project panel',
    )
    rows = _css(driver, '#orionx-project-gpus tr[data-instance]')
    assert [r.get_attribute('data-instance') for r in rows] == [server.id]
    row = rows[0].text
    assert server.name in row
    assert '16384 MiB, 25%' in row
    assert 'active' in row
    assert lease['vm_host'] in row
    _no_alerts(driver)
    _shoot(driver, screenshots, 'project-gpus')
    # No admin panel for a member: neither in the menu nor by its URL.
    assert not _css(driver, 'a[href="%s"]' % ADMIN_PANEL)
    driver.get(horizon + ADMIN_PANEL)
    assert not _css(driver, '.orionx-pool')
    assert not _css(driver, '#orionx-entitlements')


def test_operator_sees_every_pool_and_lease(
    full_sandbox: stack.FullSandbox,
    horizon: str,
    browser: Callable[[], Any],
    screenshots: pathlib.Path,
    pooled_server: tuple[Any, dict[str, Any]],
) -> None:
    server, lease = pooled_server
    driver = browser()
    login(driver, horizon, 'admin', full_sandbox.manifest.passwords['admin'])
    # The admin project's own GPUs: the demo server is not among them.
    driver.get(horizon + PROJECT_PANEL)
    _wait(driver, lambda d: _css(d, '#orionx-project-gpus'), 'admin GPUs')
    _no_alerts(driver)
    assert not _css(driver, 'tr[data-instance="%s"]' % server.id)

    # In the admin project's scope the attach service's policy refuses
    # the pools (its operators are system-scoped): the panel says so and
    # shows none.
    driver.get(horizon + ADMIN_PANEL)
    _wait(driver, lambda d: _css(d, '#orionx-entitlements'), 'the panel')
    refused = [a.text for a in _css(driver, '.orionx-forbidden')]
    assert refused and 'the pools' in refused[0], refused
    assert not _css(driver, '.orionx-pool')
    # Placement's inventory wants a project-scoped admin: shown here.
    driver.get(horizon + ADMIN_PANEL + 'inventory/')
    _wait(driver, lambda d: _css(d, '#orionx-inventory'), 'the inventory')
    _no_alerts(driver)
    classes = {
        r.get_attribute('data-rc')
        for r in _css(driver, '#orionx-inventory tr[data-rc]')
    }
    assert {
        'PGPU',
        'CUSTOM_ORIONX_VGPU',
        'CUSTOM_ORIONX_GMEM_MIB',
        'CUSTOM_ORIONX_COMPUTE_PCT',
    } <= classes, classes
    _shoot(driver, screenshots, 'inventory')

    # The system scope: every pool, GPU and lease.
    driver.get(horizon + '/auth/switch_system_scope/?next=' + ADMIN_PANEL)
    _wait(driver, lambda d: _css(d, '.orionx-pool'), 'the pools')
    _no_alerts(driver)
    # Each gunicorn worker of the attach service keeps the pool view it
    # read last; one that read it before the agents reported shows no
    # GPUs until its view is older than [orionx_attach]
    # pool_view_max_age (5 s in the sandbox). Ask again for twice that:
    # a worker that stays stale longer fails the test.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _css(
        driver, '.orionx-gpu[data-gpu="%s"]' % lease['gpu_uuid']
    ):
        time.sleep(1)
        driver.get(horizon + ADMIN_PANEL)
        _wait(driver, lambda d: _css(d, '.orionx-pool'), 'the pools')
    assert _css(driver, 'a[href="%s"]' % ADMIN_PANEL)
    pools = [
        p.get_attribute('data-pool') for p in _css(driver, '.orionx-pool')
    ]
    assert lease['pool'] in pools
    gpus = _css(driver, '.orionx-gpu[data-gpu]')
    assert len(gpus) >= 2
    hosts = {g.find_element('css selector', '.orionx-host').text for g in gpus}
    assert lease['gpu_host'] in hosts
    # The demo project's lease is a segment of its GPU's two bars.
    segments = _css(
        driver,
        '.orionx-gpu[data-gpu="%s"] a.orionx-lease[data-lease="%s"]'
        % (lease['gpu_uuid'], lease['id']),
    )
    assert len(segments) == 2
    held = _css(
        driver, '#orionx-entitlements tr[data-host="%s"]' % (lease['vm_host'])
    )
    assert held and held[0].text.split()[1] == '1', held[0].text
    _shoot(driver, screenshots, 'admin-pools')

    driver.get(segments[0].get_attribute('href'))
    _wait(driver, lambda d: _css(d, '#orionx-lease'), 'the lease page')
    _no_alerts(driver)
    detail = _css(driver, '#orionx-lease')[0].text
    for value in (server.id, lease['project_id'], lease['gpu_uuid']):
        assert value in detail
    assert '16384 MiB, 25%' in detail
    assert _css(driver, '#orionx-history tbody tr td + td')
    _shoot(driver, screenshots, 'lease')


def region_pools(sandbox: stack.FullSandbox, region: str) -> Any:
    """``GET /v1/pools`` of *region*'s own attach service."""
    return clouds.get(
        clouds.system_admin_session(sandbox.manifest),
        clouds.ATTACH_SERVICE_TYPE,
        '/v1/pools',
        region=region,
    )['pools']


def region_totals(driver: Any) -> dict[str, list[str]]:
    """The totals table: region -> its cells (region, pools, GPUs, ...)."""
    return {
        r.get_attribute('data-region'): [
            cell.text for cell in r.find_elements('css selector', 'td, th')
        ]
        for r in _css(driver, '#orionx-region-totals tr[data-region]')
    }


def test_regions_side_by_side_with_totals(
    full_sandbox: stack.FullSandbox,
    horizon: str,
    browser: Callable[[], Any],
    screenshots: pathlib.Path,
) -> None:
    one, two = layout.REGION, layout.REGION_TWO
    assert full_sandbox.manifest.region_two_hosts, 'the sandbox has one region'
    # What region two's Cyborg reports: its one host's two T4s, both
    # pooled (its other device is the host's pooled-vGPU entitlement).
    devices = clouds.get(
        clouds.admin_session(full_sandbox.manifest),
        'accelerator',
        '/devices',
        region=two,
    )['devices']
    gpus = [
        d
        for d in devices
        if json.loads(d['std_board_info']).get('kind') != 'entitlement'
    ]
    assert {d['model'] for d in gpus} == {'Tesla T4'}
    region_two_gpus = len(gpus)
    assert region_two_gpus == 2
    driver = browser()
    login(driver, horizon, 'admin', full_sandbox.manifest.passwords['admin'])
    page = horizon + '/auth/switch_system_scope/?next=' + ADMIN_PANEL
    driver.get(page + 'regions/')
    _wait(driver, lambda d: _css(d, '#orionx-region-totals'), 'regions')
    # Once more, without the scope switch's message (the screenshot).
    driver.get(horizon + ADMIN_PANEL + 'regions/')
    _wait(driver, lambda d: _css(d, '#orionx-region-totals'), 'regions')
    _no_alerts(driver)
    # An attach worker's pool view may predate its agents' reports by up
    # to pool_view_max_age (5 s): ask again for twice that.
    deadline = time.monotonic() + 10
    rows = region_totals(driver)
    while time.monotonic() < deadline and rows[two][2] != str(region_two_gpus):
        time.sleep(1)
        driver.get(horizon + ADMIN_PANEL + 'regions/')
        _wait(driver, lambda d: _css(d, '#orionx-region-totals'), 'regions')
        rows = region_totals(driver)
    assert list(rows) == [one, two, 'overall']
    # Columns: region, pools, GPUs, unhealthy, pending, memory, compute.
    counts = {
        name: [int(cell) for cell in cells[1:5]]
        for name, cells in rows.items()
    }
    # Each region's own attach service, its own pools: they differ.
    assert counts[two][:2] == [1, region_two_gpus]
    assert counts[one][1] != counts[two][1]
    (pool_two,) = region_pools(full_sandbox, two)
    assert pool_two['gpus_total'] == region_two_gpus
    assert '/ %d MiB' % pool_two['gmem_mib']['capacity'] in rows[two][5]
    pools_one = region_pools(full_sandbox, one)
    assert counts[one][:2] == [
        len(pools_one),
        sum(p['gpus_total'] for p in pools_one),
    ]
    assert counts['overall'] == [
        a + b for a, b in zip(counts[one], counts[two], strict=True)
    ]
    memory = sum(p['gmem_mib']['capacity'] for p in [*pools_one, pool_two])
    assert '/ %d MiB' % memory in rows['overall'][5]
    shown = {
        r.get_attribute('data-region'): [
            p.get_attribute('data-pool')
            for p in r.find_elements('css selector', 'tr[data-pool]')
        ]
        for r in _css(driver, '.orionx-region')
    }
    assert shown == {
        one: [p['name'] for p in pools_one],
        two: [pool_two['name']],
    }
    _shoot(driver, screenshots, 'regions')

"""Fixtures of the dashboard suite: a real ``wfaas-server`` and headless Chromium
(Debian's ``chromium`` + ``chromium-driver``, driven by Selenium).

Screenshots go to ``$WFAAS_SCREENSHOT_DIR`` when set (``docs/screenshots`` is made
that way), else into the test's temporary folder."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.functional.client.server import ServerProcess

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HERE = Path(__file__).parent


def _driver() -> Any:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    if not (os.path.exists(CHROMEDRIVER) and os.path.exists(CHROMIUM)):
        pytest.fail("chromium and chromium-driver are needed (apt-get install chromium "
                    "chromium-driver); .ci/run installs them")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    driver = _driver()
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("wfaas-ui")).start()
    try:
        yield srv
    finally:
        assert srv.stop() == 0


@pytest.fixture
def shot(browser: Any, tmp_path: Path) -> Callable[[str], Path]:
    """``shot(name)`` saves a PNG of the page (``$WFAAS_SCREENSHOT_DIR`` or tmp)."""
    folder = Path(os.environ.get("WFAAS_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = folder / f"{name}.png"
        browser.save_screenshot(str(path))
        assert path.stat().st_size > 10_000, f"screenshot {path} is empty"
        return path
    return take


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy (raises on timeout)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as exc:  # noqa: BLE001 - the page is still changing
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}: last {last!r}")


def api(server: ServerProcess, method: str, path: str, **kwargs: Any) -> Any:
    """Call the server's REST API; returns the decoded JSON (asserts success)."""
    response = requests.request(method, server.url + path, timeout=30, **kwargs)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def wait_state(server: ServerProcess, ex_id: str, states: set[str], timeout: float = 30) -> str:
    """Wait until execution ``ex_id`` is in one of ``states``; returns it."""
    return str(wait_until(lambda: (s := api(server, "GET", f"/v2/executions/{ex_id}")["state"])
                          in states and s, timeout, f"execution {ex_id} in {states}"))

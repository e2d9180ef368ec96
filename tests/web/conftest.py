"""Browser tests: Debian's Chromium, driven by Playwright, against the real `taskyard serve`."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    expect,
    sync_playwright,
)

from taskyard.config import DEFAULT_WEB_DIR
from taskyard.web.router import find_client
from tests.serving import Server, running_server
from tests.support import service_unavailable

CHROMIUM = os.environ.get("TASKYARD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "screenshots"
# Waits on conditions, never sleeps; generous, because CI shares two cores with the servers.
expect.set_options(timeout=10_000)
# Chromium reports every refused request on the console; tests say which ones they expect.
FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


@pytest.fixture(scope="session")
def client_build() -> Path:
    build = find_client(DEFAULT_WEB_DIR)
    if build is None:
        service_unavailable(
            f"the web client is not built in {DEFAULT_WEB_DIR}; `make test` builds it (needs npm)"
        )
    assert build is not None
    return build


# Per module: the sync driver keeps an event loop running while it is open, which would stop the
# async tests that run after it.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        service_unavailable(f"no Chromium at {CHROMIUM} (Debian package `chromium`)")
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


def start_web_server(
    tmp_path_factory: pytest.TempPathFactory, name: str, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp(name)
    database_url = f"sqlite+aiosqlite:///{workdir / 'taskyard.db'}"
    with running_server(database_url, workdir, "sqlite", extra_env) as server:
        yield server


@pytest.fixture(scope="session")
def web_server(client_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from start_web_server(tmp_path_factory, "web")


@dataclass
class Tab:
    """A page in its own browser context, with everything that went wrong on it recorded."""

    page: Page
    base_url: str
    name: str
    console_errors: list[str] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(f"{self.base_url}{path}")

    def screenshot(self, step: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def app_errors(self) -> list[str]:
        """Console errors other than Chromium's notes on refused requests."""
        return [message for message in self.console_errors if not FAILED_LOAD.search(message)]


def _watch(tab: Tab) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            tab.console_errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400:
            tab.refused.append((response.status, response.url))

    tab.page.on("console", on_console)
    tab.page.on("pageerror", lambda error: tab.console_errors.append(f"page error: {error}"))
    tab.page.on("response", on_response)


TabFactory = Callable[..., Tab]

FAILED_CALL = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED_CALL] = True
    return report


def report_failure(tab: Tab) -> None:
    """What each tab showed and was refused when its test failed: printed into the report."""
    try:
        shot = tab.screenshot("failed")
    except Exception as error:  # A crashed page still has its lists to show.
        shot = Path(f"(no screenshot: {error})")
    print(f"--- tab {tab.name}: at {tab.page.url}, screenshot {shot}")
    print(f"    refused: {tab.refused}")
    print(f"    console errors: {tab.console_errors}")


@pytest.fixture
def open_tab(browser: Browser, request: pytest.FixtureRequest) -> Iterator[TabFactory]:
    contexts = []
    tabs: list[Tab] = []

    def open_one(server: Server, label: str = "tab", **context_options: object) -> Tab:
        context = browser.new_context(base_url=server.base_url, **context_options)  # type: ignore[arg-type]
        context.set_default_timeout(15_000)
        contexts.append(context)
        test_name = request.node.name.replace("[", "-").replace("]", "")
        tab = Tab(context.new_page(), server.base_url, f"{test_name}-{label}")
        _watch(tab)
        tabs.append(tab)
        return tab

    yield open_one
    if request.node.stash.get(FAILED_CALL, False):
        for tab in tabs:
            report_failure(tab)
    for context in contexts:
        context.close()

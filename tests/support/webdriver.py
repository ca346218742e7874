"""Just enough of the W3C WebDriver protocol to drive Debian's headless Chromium via chromedriver.

Plain HTTP with httpx: no browser download, no selenium. Chromium runs with a fresh profile and
every background service off, so a test never reaches outside 127.0.0.1.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.pg import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--lang=zh-CN",
)  # fmt: skip


def available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


class WebDriverError(RuntimeError):
    pass


class Browser:
    """One WebDriver session: navigate, find, click, type, upload, submit, read text and
    cookies, run a script, take screenshots."""

    def __init__(self, http: httpx.Client, session: str) -> None:
        self.http = http
        self.session = session

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self.http.request(method, f"/session/{self.session}{path}", json=body)
        value = answer.json()["value"]
        if answer.status_code >= 400:
            raise WebDriverError(f"{method} {path}: {value.get('error')}: {value.get('message')}")
        return value

    def open(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self._call("GET", "/url"))

    def find_all(self, css: str) -> list[str]:
        found = self._call("POST", "/elements", {"using": "css selector", "value": css})
        return [element[ELEMENT] for element in found]

    def find(self, css: str) -> str:
        found = self._call("POST", "/element", {"using": "css selector", "value": css})
        return str(found[ELEMENT])

    def click(self, element: str) -> None:
        self._call("POST", f"/element/{element}/click", {})

    def follow(self, element: str) -> None:
        """Click a link or a submit button and wait until the next page has replaced this one
        (the old document's root goes stale, the new one has loaded): a bare click returns as
        soon as the event is dispatched, before a GET form's navigation has committed."""
        self._navigating(lambda: self.click(element))

    def type(self, element: str, text: str) -> None:
        """Type `text` into an input or a textarea (WebDriver "send keys"), after what it holds."""
        self._call("POST", f"/element/{element}/value", {"text": text})

    def clear(self, element: str) -> None:
        self._call("POST", f"/element/{element}/clear", {})

    def fill(self, css: str, text: str) -> None:
        """Replace what the field `css` holds with `text`."""
        field = self.find(css)
        self.clear(field)
        self.type(field, text)

    def upload(self, element: str, *paths: Path) -> None:
        """Choose local files in an `<input type=file>` (chromedriver reads them from disk; a
        `multiple` input takes several paths, one per line)."""
        self.type(element, "\n".join(str(path.resolve()) for path in paths))

    def submit(self, form: str) -> None:
        """Submit a form as its submit button would (validation and all), then wait for the
        next page, like `follow`."""
        self._navigating(lambda: self.script("arguments[0].requestSubmit()", form))

    def value(self, element: str) -> str:
        return str(self._call("GET", f"/element/{element}/property/value"))

    def cookies(self) -> dict[str, dict[str, Any]]:
        """The page's cookies by name, each as WebDriver describes it (httpOnly, sameSite …)."""
        return {cookie["name"]: cookie for cookie in self._call("GET", "/cookie")}

    def delete_cookie(self, name: str | None = None) -> None:
        """Delete one cookie, or every cookie of the page when `name` is None."""
        self._call("DELETE", f"/cookie/{name}" if name else "/cookie")

    def _navigating(self, action: Callable[[], object]) -> None:
        old = self.find("html")
        action()
        for _ in range(1000):
            try:
                self._call("GET", f"/element/{old}/name")
            except WebDriverError as stale:
                if "stale element" not in str(stale):
                    raise
                break
            time.sleep(0.01)
        else:
            raise WebDriverError("the page did not change")
        for _ in range(1000):
            if self.script("return document.readyState") == "complete":
                return
            time.sleep(0.01)
        raise WebDriverError("the next page did not finish loading")

    def text(self, element: str) -> str:
        return str(self._call("GET", f"/element/{element}/text"))

    def texts(self, css: str) -> list[str]:
        return [self.text(e) for e in self.find_all(css)]

    def script(self, source: str, *elements: str) -> Any:
        """Run `source`; `elements` (ids from `find`) are its `arguments`."""
        args = [{ELEMENT: element} for element in elements]
        return self._call("POST", "/execute/sync", {"script": source, "args": args})

    def alert_open(self) -> bool:
        answer = self.http.get(f"/session/{self.session}/alert/text")
        return answer.status_code == 200

    def resize(self, width: int, height: int) -> None:
        self._call("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self._call("GET", "/screenshot")))
        return path


def _wait_for_driver(http: httpx.Client, driver: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if driver.poll() is not None:
            raise WebDriverError(f"chromedriver exited with {driver.returncode}")
        try:
            if http.get("/status").json()["value"]["ready"]:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise WebDriverError("chromedriver did not start within 30 s")


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Browser]:
    """A headless Chromium session with a throw-away profile; everything is removed afterwards."""
    profile = Path(tempfile.mkdtemp(prefix="duban-chromium-"))
    port = free_port()
    driver = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    args = [*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
    options = {"binary": str(CHROMIUM), "args": args}
    capabilities = {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            _wait_for_driver(http, driver)
            created = http.post("/session", json={"capabilities": capabilities}).json()["value"]
            if "sessionId" not in created:
                raise WebDriverError(f"no session: {created}")
            browser = Browser(http, created["sessionId"])
            try:
                yield browser
            finally:
                http.delete(f"/session/{browser.session}")
    finally:
        driver.terminate()
        driver.wait(15)
        shutil.rmtree(profile, ignore_errors=True)

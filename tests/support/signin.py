"""Signing in to the web workspace in tests: an invitation from the real CLI, redeemed over HTTP.

`invite(config, person)` runs `duban invite PERSON --format json` (a liaison's name or mobile,
an official's name, or an added person's login); `signed_in(url, config, person)` redeems it the
way a browser does (GET the confirm page, POST its form with the CSRF field) and returns the
cookies of the session. `browser_sign_in` does the same in a real Chromium (`Browser`), and
`sign_in_app` signs a `TestClient` of `create_app(services)` in without a process.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from domain.roles import Identity
from duban.app.people import PeopleRegistry, PersonError
from duban.app.services import Services
from tests.support.cli_zygote import run_cli
from tests.support.webdriver import Browser

__all__ = [
    "add_person",
    "browser_sign_in",
    "csrf_of",
    "invite",
    "redeem",
    "sign_in_app",
    "signed_in",
]

OFFICE = Identity("office", "改革办")

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def _duban(config: Path, *args: str) -> str:
    """One `duban` command, forked from the suite's pre-imported CLI (sign-ins are many: a
    fresh interpreter each would cost more than the page tests themselves)."""
    done = run_cli(["--config", str(config), *args], cwd=config.parent)
    if done.returncode != 0:
        raise RuntimeError(f"duban {' '.join(args)} → {done.returncode}\n{done.stderr}")
    return done.stdout


def invite(config: Path, person: str, url: str | None = None) -> dict[str, Any]:
    args = ["invite", person, "--format", "json", *(["--url", url] if url else [])]
    issued: dict[str, Any] = json.loads(_duban(config, *args))
    return issued


def add_person(config: Path, role: str, name: str, login: str) -> None:
    _duban(config, "person", "add", "--role", role, "--name", name, "--login", login)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found[1]


def redeem(client: httpx.Client, link: str) -> httpx.Response:
    """Open the link's confirm page, then press 确认登录 (its form, with its CSRF field)."""
    token = link.split("t=", 1)[1]
    page = client.get("/invite", params={"t": token})
    assert page.status_code == 200, page.text
    return client.post("/invite", data={"t": token, "csrf": csrf_of(page.text)})


def signed_in(url: str, config: Path, person: str) -> httpx.Cookies:
    """The cookies of a fresh session for `person` on the server at `url`."""
    link = invite(config, person, url)["link"]
    with httpx.Client(base_url=url, timeout=30) as client:
        answer = redeem(client, link)
        assert answer.status_code == 200, answer.text
        cookies = httpx.Cookies()
        for name, value in client.cookies.items():
            cookies.set(name, value)
        return cookies


def sign_in_app(
    client: httpx.Client, services: Services, person: str = "auditor", role: str = "auditor"
) -> None:
    """Sign an in-process client in as `person`: a directory name (or mobile), or else the
    login of an office member or auditor added here on first use (`role`, named `person`)."""
    people = PeopleRegistry.of(services)
    try:
        link = people.invite(person, OFFICE).link
    except PersonError:
        people.add(role, person, person, OFFICE)
        link = people.invite(person, OFFICE).link
    answer = redeem(client, link)
    assert answer.status_code == 200, answer.text


def browser_sign_in(browser: Browser, link: str) -> None:
    """Open an invitation link in Chromium and press 确认登录, as the person would."""
    browser.open(link)
    browser.submit(browser.find("#invite-form"))
    assert "已登录" in browser.text(browser.find("body")), browser.text(browser.find("body"))

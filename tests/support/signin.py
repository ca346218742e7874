"""Signing in to the web workspace in tests: an invitation from the real CLI, redeemed over HTTP.

`invite(config, person)` runs `duban invite PERSON --format json` (a liaison's name or mobile,
an official's name, or an added person's login); `signed_in(url, config, person)` redeems it the
way a browser does (GET the confirm page, POST its form with the CSRF field) and returns the
cookies of the session. `Browser`-level sign-in is `browser_sign_in` (a real Chromium).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import duban

__all__ = ["add_person", "csrf_of", "invite", "redeem", "signed_in"]

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def invite(config: Path, person: str, url: str | None = None) -> dict[str, Any]:
    args = ["invite", person, "--format", "json", *(["--url", url] if url else [])]
    issued: dict[str, Any] = json.loads(duban(config, *args))
    return issued


def add_person(config: Path, role: str, name: str, login: str) -> None:
    duban(config, "person", "add", "--role", role, "--name", name, "--login", login)


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

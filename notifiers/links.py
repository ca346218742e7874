"""Links to the web workspace inside chat messages: the one piece of markup built from data
that the chat escaper (`notifiers.render.escape_markdown`) must leave alone.

A `TrustedLink` is made only by `task_link` from the office's `[web] public_url` and a task
code: the code is percent-quoted into the path and the label is a fixed word of ours, so no
value typed by a person can shape a link (a title like ``[点我](http://evil)`` is still escaped
into inert full-width text by the renderer). It is not a `str`, so the digest templates'
`finalize` escaper passes it through, and `str(link)` is the Markdown ``[查看任务](https://…)``
that WeCom and DingTalk markdown render and the Feishu post converter turns into an `a` tag.

`sole_task_link` finds the one task link of a one-task message again on the wire side: the
robots use it to offer a button (DingTalk ActionCard, Feishu interactive card).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "LINK_LABEL",
    "LINK_PATTERN",
    "TrustedLink",
    "link_spans",
    "sole_task_link",
    "task_link",
    "task_path",
    "task_url",
    "without_link_line",
]

LINK_LABEL = "查看任务"
"""The label of every task link and the title of the button a one-task message gets."""

_SAFE_BASE = re.compile(r"^https?://[A-Za-z0-9.\-:\[\]]+(/[A-Za-z0-9._~%/\-]*)?$")
LINK_PATTERN = re.compile(r"\[(?P<label>[^\[\]\n]+)\]\((?P<url>https?://[^()\s]+)\)")
"""A Markdown link as the builders write it (the escaper makes `[`, `]`, `(`, `)` of data
full-width, so only a builder's link matches)."""


@dataclass(frozen=True, slots=True)
class TrustedLink:
    """A link built by us: shown as Markdown, never escaped."""

    label: str
    url: str

    def __post_init__(self) -> None:
        if not _SAFE_BASE.match(self.url):
            raise ValueError(f"not a safe workspace link: {self.url!r}")
        if not self.label or any(ch in self.label for ch in "[]()\n"):
            raise ValueError(f"not a plain link label: {self.label!r}")

    def __str__(self) -> str:
        return f"[{self.label}]({self.url})"


def task_path(code: str) -> str:
    """`/tasks/{code}`, the code percent-quoted: the web workspace's route to a task's page."""
    return f"/tasks/{quote(code, safe='')}"


def task_url(public_url: str, code: str) -> str:
    """`{public_url}/tasks/{code}`."""
    base = quote(public_url.strip().rstrip("/"), safe=":/[]%-._~")
    return base + task_path(code)


def task_link(public_url: str | None, code: str, label: str = LINK_LABEL) -> TrustedLink | None:
    """The link to a task's page, or None without a public address (messages stay as they were)."""
    if not public_url:
        return None
    return TrustedLink(label, task_url(public_url, code))


def link_spans(text: str) -> list[tuple[int, int]]:
    """Where the Markdown links of `text` start and end (character offsets)."""
    return [match.span() for match in LINK_PATTERN.finditer(text)]


def sole_task_link(text: str) -> str | None:
    """The address of the task link in `text` when it holds exactly one task link, else None."""
    urls = {
        m["url"]
        for m in LINK_PATTERN.finditer(text)
        if m["label"] == LINK_LABEL and "/tasks/" in m["url"]
    }
    return urls.pop() if len(urls) == 1 else None


def without_link_line(text: str, url: str) -> str:
    """`text` without the paragraph that is only the link to `url` (a button replaces it)."""
    kept = [line for line in text.split("\n") if not _only_link(line, url)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")


def _only_link(line: str, url: str) -> bool:
    match = LINK_PATTERN.fullmatch(line.strip())
    return match is not None and match["url"] == url

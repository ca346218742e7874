"""The Chinese Markdown digest one chat receives in one sweep: most urgent rung first.

Task titles, unit names and reports are typed by people and may contain Markdown or HTML
(`[链接](…)`, `<@all>`, `**`, newlines). Every value a template prints is passed through
`escape_markdown`, which swaps the characters that mean something to the robots' Markdown for
their full-width forms (they read naturally in Chinese text and mean nothing to any renderer)
and turns line breaks into spaces, so a value cannot open a link, mention someone, start a
heading or break out of its line. Markup belongs in the template text, data in `{{ }}`.

`escape_markdown` is the one escaper for every value that enters a chat message, whoever
builds it (this digest, the report round's messages, the 月分析 / 季调度 / 年督考 posts, the
failure notices), and it covers the three platforms at once, since one message may go to any:

* WeCom markdown: links `[…](…)`, `**`, `#` headings, `>` quotes, `<font>`, `` ` ``, and the
  `<@userid>` mention;
* DingTalk markdown: the same Markdown, images `![…](…)`, and `@138…` mentions (the `@`);
* Feishu: the post converter's `**…**` and `[…](…)` (`notifiers.feishu`), `<at user_id=…>`
  tags in text and `lark_md`, and `@` names.

It also keeps a value from turning into a link by itself (`http://` becomes `http：//`: chat
clients link bare addresses) and removes the zero-width and bidi control characters
(`INVISIBLE`) that hide or reorder text. Only the mobiles and user ids a message lists as its
mentions are ever mentioned: no data can add one.

The one markup made from data is the link to a task's page (`notifiers.links.TrustedLink`,
built from `[web] public_url` and the quoted code): it is not a `str`, so `finalize` leaves it
as the Markdown link it is. Without a public address there are no links and nothing changes.

Admins may override the templates: put `digest_title.j2` and/or `digest.md.j2` in the directory
given to `Renderer`. The defaults are strings in this module, so nothing needs packaging.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    DictLoader,
    FileSystemLoader,
    StrictUndefined,
)
from jinja2.sandbox import SandboxedEnvironment

from domain.dates import chinese_date
from domain.rungs import DIGEST_HEADLINES, RUNG_NAMES, RungName
from notifiers.links import TrustedLink, task_link

__all__ = [
    "CLOSING",
    "CLOSINGS",
    "DEFAULT_TEMPLATES",
    "INVISIBLE",
    "RUNG_ORDER",
    "DigestItem",
    "Renderer",
    "Rung",
    "days_text",
    "digest_headline",
    "escape_markdown",
    "render_digest",
]

Rung = RungName
RUNG_ORDER: tuple[Rung, ...] = tuple(reversed(RUNG_NAMES))  # most severe first

TITLE_TEMPLATE = "digest_title.j2"
BODY_TEMPLATE = "digest.md.j2"
DEFAULT_TEMPLATES: dict[str, str] = {
    TITLE_TEMPLATE: "改革任务{{ headline }}｜{{ chat_name }}｜{{ now | day }}",
    BODY_TEMPLATE: """\
{% if not groups %}
截至{{ now | day }} {{ now.strftime('%H:%M') }}，{{ chat_name }}没有需要提醒的改革任务。
{% else %}
截至{{ now | day }} {{ now.strftime('%H:%M') }}，{{ chat_name }}共有{{ total }}项改革任务需要关注\
（按紧急程度排列）：
{% for group in groups %}

#### {{ group.label }}（{{ group.items | length }}项）
{% for item in group.items %}
- **{{ item.task_code }}** {{ item.title }}｜牵头：{{ item.lead_unit }}｜时限：
{%- if item.deadline %}{{ item.deadline | day }}（{{ item.days | days_text }}）
{%- else %}持续推进{% endif %}｜最近报送：{{ item.last_report | day if item.last_report else "无" }}
{%- if item.document_no %}｜文号：{{ item.document_no }}{% endif %}
{%- if item.task_code in links %}｜{{ links[item.task_code] }}{% endif %}
{%- if item.mention_names %}｜提醒：
{%- for name in item.mention_names %}{{ "" if loop.first else " " }}@{{ name }}{% endfor %}
{%- endif %}

{% endfor %}
{% endfor %}

{{ closing }}
{% endif %}
""",
}

CLOSINGS: dict[str, str] = {
    "bulletin": "请被通报单位认真查找原因、限期整改，并及时报送整改情况。",
    "supervise": "请责任单位按督办要求抓紧办理，并按时报送办理进展。",
    "urge": "请责任单位抓紧推进，并及时报送办理进展。",
}
CLOSING = "请各责任单位对照完成时限抓紧推进，并及时报送进展。"
"""A digest's last line, by its most urgent rung (`CLOSINGS`, else `CLOSING`)."""

# Characters with a meaning in WeCom / DingTalk Markdown, or HTML, or @-mentions.
_FULL_WIDTH = str.maketrans(
    {
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "*": "＊",
        "_": "＿",
        "#": "＃",
        "`": "｀",
        "~": "～",
        "|": "｜",
        "\\": "＼",
        "&": "＆",
        "@": "＠",
        "!": "！",
    }
)


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One task on one rung, as the digest shows it.

    `days` counts working days: negative means that many left, positive that many overdue.
    """

    task_code: str
    title: str
    rung: Rung
    rung_label: str
    deadline: date | None
    days: int
    last_report: str | None
    lead_unit: str
    mention_names: tuple[str, ...] = ()
    document_no: str | None = None  # the 督办单 / 通报 this rung issued (县改办督〔2026〕12号)


@dataclass(frozen=True, slots=True)
class _Group:
    rung: Rung
    label: str
    items: tuple[DigestItem, ...]


def escape_markdown(value: str) -> str:
    """`value` made inert in every platform's Markdown, HTML and mentions, without invisible
    characters and kept on one line. Idempotent."""
    flat = "".join(" " if _breaks_line(ch) else ch for ch in value if ch not in INVISIBLE)
    return flat.translate(_FULL_WIDTH).replace("://", "：//")


def _breaks_line(ch: str) -> bool:
    """Line breaks and other controls."""
    return ch in "\u2028\u2029" or unicodedata.category(ch) == "Cc"


INVISIBLE = frozenset(
    [chr(c) for c in range(0x200B, 0x2010)]  # zero-width space … right-to-left mark
    + [chr(c) for c in range(0x202A, 0x202F)]  # bidi embeddings and overrides
    + [chr(c) for c in range(0x2060, 0x2065)]  # word joiner, invisible operators
    + [chr(c) for c in range(0x2066, 0x206A)]  # bidi isolates
    + ["\u061c", "\u180e", "\ufeff"]  # Arabic letter mark, Mongolian vowel separator, BOM
)
"""Characters that hide text or reorder the rest of a line: removed from every value."""


def days_text(days: int) -> str:
    if days > 0:
        return f"逾期{days}个工作日"
    if days < 0:
        return f"剩余{-days}个工作日"
    return "今日到期"


def _finalize(value: Any) -> Any:
    return escape_markdown(value) if isinstance(value, str) else value


def _urgency(item: DigestItem) -> tuple[bool, int, str]:
    """Most overdue first, then fewest days left; tasks without a deadline last."""
    return item.deadline is None, -item.days, item.task_code


def _grouped(items: Iterable[DigestItem]) -> list[_Group]:
    """Items grouped by rung and label: a claim rung (逾期未签收) shares its severity's rung but
    keeps its own heading, so a digest mixing it with 催办 shows both headings."""
    by_key: dict[tuple[Rung, str], list[DigestItem]] = {}
    for item in items:
        by_key.setdefault((item.rung, item.rung_label), []).append(item)
    order = {rung: index for index, rung in enumerate(RUNG_ORDER)}
    groups = [
        _Group(rung=rung, label=label, items=tuple(sorted(members, key=_urgency)))
        for (rung, label), members in by_key.items()
    ]
    groups.sort(key=lambda group: (order.get(group.rung, len(order)), _urgency(group.items[0])))
    return groups


class Renderer:
    """Digest templates: the admin's from `template_dir` where present, else the defaults.

    With `public_url` (the office's `[web] public_url`) every line links to its task's page:
    the templates get `links`, task code → `TrustedLink`, which the escaper lets through.
    """

    def __init__(self, template_dir: Path | None = None, public_url: str | None = None) -> None:
        self._public_url = public_url
        loaders: list[BaseLoader] = []
        if template_dir is not None:
            if not template_dir.is_dir():
                raise FileNotFoundError(f"template directory {template_dir} does not exist")
            loaders.append(FileSystemLoader(template_dir))
        loaders.append(DictLoader(DEFAULT_TEMPLATES))
        env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            autoescape=False,  # Markdown, not HTML: `finalize` does the escaping
            finalize=_finalize,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["md"] = escape_markdown
        env.filters["days_text"] = days_text
        env.filters["day"] = chinese_date  # domain.dates: the one way a day is written
        # Loaded now so that a broken admin template fails at start, not at the first sweep.
        self._title = env.get_template(TITLE_TEMPLATE)
        self._body = env.get_template(BODY_TEMPLATE)

    def render_digest(
        self, chat_name: str, items: Sequence[DigestItem], now: datetime
    ) -> tuple[str, str]:
        """(title, markdown) for one chat's digest."""
        groups = _grouped(items)
        context = {
            "chat_name": chat_name,
            "groups": groups,
            "total": len(items),
            "now": now,
            "headline": digest_headline(groups[0].rung if groups else None),
            "closing": CLOSINGS.get(groups[0].rung, CLOSING) if groups else "",
            "links": self._links(items),
        }
        title = " ".join(self._title.render(context).split())
        body = self._body.render(context).strip()
        return title, body

    def _links(self, items: Sequence[DigestItem]) -> dict[str, TrustedLink]:
        """Each task's page link (none without a public address)."""
        found = {item.task_code: task_link(self._public_url, item.task_code) for item in items}
        return {code: link for code, link in found.items() if link is not None}


def digest_headline(rung: str | None) -> str:
    """A digest's title word by its most urgent rung: 到期预告 … 通报 (督办提醒 if empty)."""
    return DIGEST_HEADLINES.get(rung or "", "督办提醒")


@cache
def _default_renderer() -> Renderer:
    return Renderer()


def render_digest(chat_name: str, items: Sequence[DigestItem], now: datetime) -> tuple[str, str]:
    """(title, markdown) with the default templates."""
    return _default_renderer().render_digest(chat_name, items, now)

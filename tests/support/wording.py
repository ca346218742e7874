"""Collect everything a person reads and find what is not written in Chinese (issue 14).

A `Collector` gathers user-facing texts, each with its surface (CLI, API, chat, report md|html|
xlsx|pdf, web, audit) and its source (the command, the URL, the chat, the file and cell);
`scan` finds in them:

- ``english``: an ASCII word of three or more letters outside the allow-list (task codes and
  numbers have no letters; URLs, paths, file names, option names such as ``--as-of``, environment
  variables such as ``DUBAN_NOW``, ``duban`` command lines and hash digests are taken out
  first; ``ALLOWED_WORDS`` lists the few words an office writes in Latin letters);
- ``repr``: a Python representation (``datetime.date(``, ``<class``, ``Traceback``, ``None``,
  ``True``/``False`` as words, ``['…']`` and ``{'…':`` literals);
- ``channel``: a channel's code name in a chat message (messages name units, not chats);
- ``log``: a structured log line (JSON with an ``event``) printed where a person reads, named
  once by its event rather than word by word.

`leak_report` prints each distinct leak once with its count and the first places it was seen
(surface, source, the line), grouped by surface: a failure message that reads as a to-do list.

    texts = Collector()
    texts.add("CLI", "duban board", stdout)
    texts.add_xlsx("report xlsx", "report monthly 2026-06", path)
    leaks = scan(texts.texts, channel_codes={"bb", "office"})
    assert not leaks, leak_report(leaks)
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

__all__ = [
    "ALLOWED_WORDS",
    "COMMAND_WORDS",
    "Collector",
    "Leak",
    "Text",
    "chat_source",
    "coverage",
    "dump",
    "html_text",
    "leak_report",
    "pdf_text",
    "scan",
    "xlsx_texts",
]

# Words an office writes in Latin letters (format names, the product's name in a command line).
ALLOWED_WORDS = frozenset(
    {
        "API",
        "PDF",
        "Excel",
        "Word",
        "WPS",
        "CSV",
        "JSON",
        "JSONL",
        "XLSX",
        "HTML",
        "TOML",
        "YAML",
        "URL",
        "Markdown",
    }
    # the format names as typed after --format
    | {"table", "json", "jsonl", "csv", "xlsx", "html", "pdf", "toml", "yaml"}
    # input syntax a person types (the lead's list, issue 14): the role codes of `--as`, the log
    # level names, the HTTP header words, a config key, the time-zone name, the key to stop
    # `duban serve`, and `all` as the --answers value
    | {"office", "liaison", "official", "auditor"}
    | {"DEBUG", "INFO", "WARNING", "ERROR"}
    | {"Authorization", "Bearer"}
    | {"allow_new_units", "Asia/Shanghai", "Ctrl-C", "all"}
)
# The words of a `duban …` command line quoted to the operator ("请运行 duban calendar import").
COMMAND_WORDS = frozenset(
    (
        "duban",
        "init",
        "import",
        "board",
        "rebuild",
        "deliver",
        "sweep",
        "serve",
        "task",
        "audit",
        "notify",
        "scheduler",
        "report",
        "token",
        "invite",
        "person",
        "session",
        "demo",
        "calendar",
        "instruction",
        "accountability",
        "document",
        "plan",
        "show",
        "history",
        "claim",
        "close-milestone",
        "request-extension",
        "grant-extension",
        "deny-extension",
        "submit",
        "accept",
        "return",
        "cancel",
        "recognise",
        "log",
        "verify",
        "head",
        "test",
        "jobs",
        "run",
        "preview",
        "monthly",
        "quarterly",
        "assessment",
        "issue",
        "revoke",
        "list",
        "record",
        "answer",
        "pdf",
        "resubmit",
        "review",
    )
)

SURFACES = (
    "CLI",
    "CLI help",
    "API",
    "chat",
    "report md",
    "report html",
    "report xlsx",
    "report pdf",
    "web",
    "audit",
)

# ASCII word edges (`\\b` sees no edge between a Latin letter and a Chinese character).
_B, _E = r"(?<![A-Za-z0-9_])", r"(?![A-Za-z0-9_])"
# Spans taken out before looking for words, in this order.
_ALLOWED_SPANS = (
    # allowed words written with a `/` or `-` (Asia/Shanghai, Ctrl-C), which `_TOKEN` splits
    re.compile(
        _B
        + "(?:"
        + "|".join(re.escape(w) for w in sorted(ALLOWED_WORDS) if "/" in w or "-" in w)
        + ")"
        + _E
    ),
    # config syntax the admin types, as a message quotes it: [[units]], [import] allow_new_units
    # = true (a config key is an identifier the admin wrote, not prose)
    re.compile(r"\[\[?[a-z_]+\]\]?(?:[ \t]+[a-z_]+(?:[ \t]*=[ \t]*(?:true|false|\d+))?)?"),
    re.compile(_B + r"[a-z]+_[a-z_]+[ \t]*=[ \t]*(?:true|false|\d+)" + _E),  # key = value
    re.compile(r"https?://[^\s）)」，。；]+"),  # URLs
    re.compile(r"(?<![\w/])(?:/[\w.@%+-]+)+/?"),  # absolute paths, API paths (/api/v1/tasks)
    re.compile(
        r"[\w\u3400-\u9fff〔〕（）()-]+\.(?:pdf|xlsx|csv|jsonl?|html|md|toml|txt|ya?ml|db|log)" + _E
    ),
    re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*"),  # option names
    re.compile(r"<[a-z]+(?:\|[a-z]+)+>"),  # an option's choices, as typed: <table|json|csv>
    re.compile(r"\$?" + _B + r"DUBAN_[A-Z_]+" + _E),  # environment variables
    re.compile(_B + r"(?:YYYY-MM-DD|YYYY-MM|YYYYQ[1-4N])" + _E),  # date formats in hints
    re.compile(_B + r"[0-9a-f]{16,}" + _E),  # hash digests, token ids
    re.compile(
        _B
        + r"duban(?:[ \t]+(?:"
        + "|".join(map(re.escape, sorted(COMMAND_WORDS)))
        + r")"
        + _E
        + ")*"
    ),
)
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.:]*[A-Za-z0-9_]|[A-Za-z]")
_LETTER_RUN = re.compile(r"[A-Za-z]{3,}")
_REPRS = (
    re.compile(r"datetime\.(?:date|datetime|time|timedelta|timezone)\("),
    re.compile(r"<class '|<[a-z_.]+ object at 0x"),
    re.compile(_B + r"Traceback" + _E),
    re.compile(_B + r"(?:None|True|False)" + _E),
    re.compile(r"\[\s*'[^']*'\s*[,\]]|\{\s*'[^']*'\s*:"),  # list and dict literals
    re.compile(_B + r"(?:Decimal|UUID|ZoneInfo|PosixPath)\("),
)


@dataclass(frozen=True)
class Text:
    """One user-facing text: where it was seen and what it says."""

    surface: str
    source: str
    text: str


@dataclass(frozen=True)
class Leak:
    """One offending word (or repr, or channel code) on one line of one text."""

    surface: str
    source: str
    kind: str  # english | repr | channel
    word: str
    line: str


@dataclass
class Collector:
    """Texts gathered from every surface, in the order they were seen."""

    texts: list[Text] = field(default_factory=list)

    def add(self, surface: str, source: str, text: str) -> None:
        if text.strip():
            self.texts.append(Text(surface, source, text))

    def add_html(self, surface: str, source: str, html: str) -> None:
        self.add(surface, source, html_text(html))

    def add_xlsx(self, surface: str, source: str, path: Path) -> None:
        for where, text in xlsx_texts(path):
            self.add(surface, f"{source} {where}", text)

    def add_pdf(self, surface: str, source: str, path: Path) -> None:
        self.add(surface, source, pdf_text(path))


def scan(texts: Iterable[Text], *, channel_codes: Iterable[str] = ()) -> list[Leak]:
    """Every leak in `texts`; channel codes are looked for in chat texts only."""
    names = frozenset(channel_codes)
    codes = [re.compile(rf"(?<![A-Za-z0-9_]){re.escape(c)}(?![A-Za-z0-9_])") for c in names]
    leaks: list[Leak] = []
    for text in texts:
        for raw in text.text.splitlines():
            line = raw.strip()
            if not line:
                continue
            chat = text.surface == "chat"
            leaks.extend(_line_leaks(text, line, skip=names if chat else frozenset()))
            if chat:
                leaks.extend(
                    Leak(text.surface, text.source, "channel", m.group(0), _clip(line))
                    for code in codes
                    for m in code.finditer(line)
                )
    return leaks


def _log_event(line: str) -> str | None:
    if not (line.startswith("{") and line.endswith("}")):
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return str(entry["event"]) if isinstance(entry, dict) and "event" in entry else None


def _line_leaks(text: Text, line: str, skip: frozenset[str]) -> Iterable[Leak]:
    """The leaks of one line; words in `skip` (channel codes in a chat) are named elsewhere."""
    event = _log_event(line)
    if event is not None:
        yield Leak(text.surface, text.source, "log", event, _clip(line))
        return
    reprs = [m.group(0) for pattern in _REPRS for m in pattern.finditer(line)]
    for found in reprs:
        yield Leak(text.surface, text.source, "repr", found, _clip(line))
    bare = line
    if text.surface == "CLI help":  # a command's name heads its line in the list of commands
        first, _, rest = line.partition(" ")
        bare = rest if first in COMMAND_WORDS else line
    for pattern in _ALLOWED_SPANS:
        bare = pattern.sub(" ", bare)
    for token in _TOKEN.findall(bare):
        if token in ALLOWED_WORDS or not _LETTER_RUN.search(token):
            continue
        if token in {"None", "True", "False", "Traceback"} or token in skip:
            continue  # already named as a repr, or as a channel code
        yield Leak(text.surface, text.source, "english", token, _clip(line))


def _clip(line: str, width: int = 160) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def coverage(texts: Iterable[Text]) -> str:
    """How many texts (and lines) were read on each surface: what the scan saw."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for text in texts:
        counts[text.surface][0] += 1
        counts[text.surface][1] += len(text.text.splitlines())
    order = {s: i for i, s in enumerate(SURFACES)}
    surfaces = sorted(counts, key=lambda s: (order.get(s, len(order)), s))
    return "；".join(f"{s} {counts[s][0]} texts / {counts[s][1]} lines" for s in surfaces)


def dump(texts: Iterable[Text]) -> str:
    """Every collected text with its surface and source: to read what the scan read."""
    return "\n".join(f"===== {t.surface} | {t.source}\n{t.text.rstrip()}" for t in texts) + "\n"


def leak_report(leaks: Iterable[Leak], *, places: int = 3) -> str:
    """Each distinct leak once per surface, with its count and where it was first seen."""
    grouped: dict[str, dict[tuple[str, str], list[Leak]]] = defaultdict(lambda: defaultdict(list))
    for leak in leaks:
        grouped[leak.surface][leak.kind, leak.word].append(leak)
    order = {s: i for i, s in enumerate(SURFACES)}
    lines: list[str] = []
    for surface in sorted(grouped, key=lambda s: (order.get(s, len(order)), s)):
        found = grouped[surface]
        total = sum(len(v) for v in found.values())
        lines.append(f"## {surface}: {len(found)} distinct, {total} in all")
        for (kind, word), seen in sorted(found.items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
            lines.append(f"- [{kind}] `{word}` ×{len(seen)}")
            shown: set[tuple[str, str]] = set()
            for leak in seen:
                if (leak.source, leak.line) in shown:
                    continue
                shown.add((leak.source, leak.line))
                lines.append(f"    {leak.source}: {leak.line}")
                if len(shown) >= places:
                    break
        lines.append("")
    return "\n".join(lines)


# ---- reading the formats -----------------------------------------------------------------

_SKIPPED_ELEMENTS = {"script", "style", "template", "noscript"}
_READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}
_BLOCKS = {
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "option",
    "section", "header", "footer", "aside", "nav", "table", "caption", "summary", "details",
    "label", "button", "dt", "dd", "title", "a", "span", "small", "strong", "em", "time",
}  # fmt: skip


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_ELEMENTS:
            self._skipping += 1
        if tag in _BLOCKS:
            self.parts.append("\n")
        for name, value in attrs:
            if value and (
                name in _READ_ATTRIBUTES
                or (tag == "input" and name == "value" and dict(attrs).get("type") == "submit")
            ):
                self.parts.append(f"\n{value}\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_ELEMENTS and self._skipping:
            self._skipping -= 1
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text a reader sees in an HTML page: element texts and the attributes shown to a
    reader (title, alt, placeholder, aria-label), without scripts or styles, one block a line."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    )
    return "\n".join(line for line in lines if line)


def xlsx_texts(path: Path) -> list[tuple[str, str]]:
    """Every text a reader of the workbook sees, with its place: sheet titles, string cells
    (booleans too: Excel shows them as words), headers and footers."""
    from openpyxl import load_workbook

    book = load_workbook(path, data_only=False)
    found: list[tuple[str, str]] = []
    for sheet in book.worksheets:
        found.append((f"「{sheet.title}」", sheet.title))
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, bool):
                    found.append((f"「{sheet.title}」!{cell.coordinate}", str(value)))
                elif isinstance(value, str) and value.strip():
                    found.append((f"「{sheet.title}」!{cell.coordinate}", value))
        for part_name in ("oddHeader", "oddFooter"):
            part = getattr(sheet, part_name, None)
            for side in ("left", "center", "right"):
                text = getattr(getattr(part, side, None), "text", None)
                if text:
                    found.append((f"「{sheet.title}」 {part_name}", str(text)))
    book.close()
    return found


def pdf_text(path: Path) -> str:
    """The text of a PDF as `pdftotext` (poppler) reads it."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
        timeout=60,
    )
    return done.stdout


def chat_source(platform: str, channel: str, units: Mapping[str, str], number: int) -> str:
    """How a chat message is named in a leak report: 「钉钉 县委编办（bb）#3」."""
    names = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
    return f"{names.get(platform, platform)} {units.get(channel, channel)}（{channel}）#{number}"

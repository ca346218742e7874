"""The command line's own words in Chinese: help pages, usage lines and usage errors.

Typer (and the Click it vendors) write their help and their usage errors in English, with no
translation hook in the bundled Click. The root group of `duban` (`ChineseGroup`, the `cls`
of `duban.cli.common.app`) therefore:

- gives every command's context a help formatter (`ChineseHelpFormatter`) that writes
  「用法：」, 「选项」「参数」「命令」, the type of a value as 文本 / 整数 / 路径 and the
  bracketed notes (default, required, environment variable) in Chinese;
- names each argument in Chinese in the usage line and in errors (`ARGUMENT_NAMES`);
- prints a usage error as three Chinese lines, chosen by the error's class (missing option,
  bad value, no such option or command, extra argument…), not by its English text.

Option names (`--format`, `--as`) and the values one types (`table`, `office`) stay as they
are: they are the command line's contract.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import typer
from typer import _click as click
from typer.core import TyperGroup

from duban.app.validation_messages import problem_message
from duban.cli.output import display_width

__all__ = ["ARGUMENT_NAMES", "ChineseGroup", "ChineseHelpFormatter", "error_lines", "translate"]

# An argument's name as the usage line and the errors show it (a Typer argument is shown by
# its parameter name unless it has a metavar).
ARGUMENT_NAMES = {
    "code": "任务编号",
    "file": "文件",
    "name": "名称",
    "channel": "群",
    "year": "年度",
    "period": "期间",
    "month": "月份",
    "quarter": "季度",
    "number": "文号",
    "ref": "批示编号",
    "token_id": "令牌编号",
    "which": "视图",
    "plan": "方案编号",
    "plan_code": "方案编号",
}

# Fixed phrases of Typer/Click in help pages (whole help texts of built-in options).
_PHRASES = {
    "Show this message and exit.": "显示本帮助并退出。",
    "Install completion for the current shell.": "为当前终端安装命令补全。",
    "Show completion for the current shell, to copy it or customize the installation.": (
        "显示当前终端的命令补全脚本，可复制或自行安装。"
    ),
}
_SECTIONS = {"Options": "选项", "Arguments": "参数", "Commands": "命令"}
_TYPES = {
    "str": "文本",
    "int": "整数",
    "float": "数字",
    "bool": "",
    "Path": "路径",
    "path": "路径",
    "file": "文件",
    "directory": "目录",
    "datetime": "日期时间",
    "list[str]": "文本，可多次",
    "list[int]": "整数，可多次",
    "list[Path]": "路径，可多次",
}
_TYPE = re.compile(r"<([^<>]*)>")
_NOTE = re.compile(r"\[([^\[\]]*(?:default|required|env var)[^\[\]]*)\]$")
_RANGE = re.compile(r"^(-?[\d.]+)<=x<=(-?[\d.]+)$")


def _type_name(match: re.Match[str]) -> str:
    inner = match.group(1)
    if inner in _TYPES:
        return _TYPES[inner]
    if inner.endswith(" range"):
        return _TYPES.get(inner.removesuffix(" range"), inner)
    return match.group(0)  # a choice (`<table|json|csv>`): the values one types


def _note(match: re.Match[str]) -> str:
    parts = []
    for part in match.group(1).split("; "):
        key, _, value = part.partition(": ")
        if key == "default":
            parts.append(f"默认：{value}")
        elif key == "env var":
            parts.append(f"环境变量：{value}")
        elif part == "required":
            parts.append("必填")
        elif (bounds := _RANGE.match(part)) is not None:
            parts.append(f"{bounds.group(1)}～{bounds.group(2)}")
        else:
            parts.append(part)
    return f"［{'；'.join(parts)}］"


def translate(text: str) -> str:
    """A help record's text with Typer's English phrases and notes in Chinese."""
    text = _PHRASES.get(text, text)
    return _NOTE.sub(_note, text)


def _term(term: str, plain: bool = False) -> str:
    """An option's or argument's name column: its value type in Chinese (choices kept); an
    argument's name alone (`plain`)."""
    shown = _TYPE.sub("" if plain else _type_name, term)
    return " ".join(shown.split())


class ChineseHelpFormatter(click.HelpFormatter):
    """Click's help formatter with Chinese headings, usage prefix, types and notes, and
    columns measured in terminal cells (a Chinese character takes two)."""

    _section = ""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, usage_args(args), "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self._section = heading
        self.write(f"{'':>{self.current_indent}}{_SECTIONS.get(heading, heading)}：\n")

    def write_dl(
        self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        plain = self._section == "Arguments"  # an argument's type says nothing a person needs
        shown = [(_term(term, plain), translate(text)) for term, text in rows]
        first = min(max((display_width(t) for t, _ in shown), default=0), col_max)
        indent = " " * self.current_indent
        text_at = self.current_indent + first + col_spacing
        width = max(self.width - text_at, 20)
        for term, text in shown:
            lines = _wrap(text, width) or [""]
            if display_width(term) <= first:
                pad = " " * (first - display_width(term) + col_spacing)
                self.write(f"{indent}{term}{pad}{lines[0]}".rstrip() + "\n")
                rest = lines[1:]
            else:
                self.write(f"{indent}{term}\n")
                rest = lines
            for line in rest:
                self.write(f"{' ' * text_at}{line}\n")


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` terminal cells, broken at a space or beside a Chinese
    character, never inside an ASCII word (an option's name, a value one types)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if display_width(line + ch) > width:
                cut = _break_at(line + ch)
                if 0 < cut <= len(line):
                    lines.append(line[:cut])
                    line = line[cut:].lstrip(" ")
                else:
                    lines.append(line)
                    line = ""
            line += ch
        lines.append(line)
    return [line.rstrip() for line in lines]


def _break_at(text: str) -> int:
    """The last place `text` may break: after a space or next to a wide character."""
    for i in range(len(text) - 1, 0, -1):
        before, after = text[i - 1], text[i]
        if before == " " or display_width(before) == 2 or display_width(after) == 2:
            return i
    return 0


def usage_args(args: str) -> str:
    """The usage line after the program: [OPTIONS] → [选项], COMMAND [ARGS]... → 命令 [参数]…"""
    return (
        args.replace("[OPTIONS]", "[选项]")
        .replace("COMMAND [ARGS]...", "命令 [参数]...")
        .replace("{", "")
        .replace("}", "")
    )


class ChineseContext(click.Context):
    formatter_class = ChineseHelpFormatter


def _localize(command: click.Command) -> None:
    """Every command below the root: Chinese help formatter, arguments named in Chinese."""
    command.context_class = ChineseContext
    for param in command.params:
        if param.param_type_name == "argument" and param.metavar is None and param.name:
            param.metavar = ARGUMENT_NAMES.get(param.name)
    for sub in getattr(command, "commands", {}).values():
        _localize(sub)


class ChineseGroup(TyperGroup):
    """The root `duban` group: Chinese help everywhere below it, usage errors in Chinese."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _localize(self)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            typer.echo(exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            for line in error_lines(exc):
                typer.echo(line, err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("已中止。", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


# ---- usage errors ----------------------------------------------------------------------------


def _param_name(param: Any) -> str:
    if param is None:
        return "参数"
    if param.param_type_name == "option":
        return f"选项 {param.opts[0]}"
    return f"参数「{param.metavar or param.name}」"


def _choices(text: str) -> list[str]:
    return re.findall(r"'([^']*)'", text)


def _bad_value(exc: Any) -> str:
    """Why a value was refused, in Chinese, from the validation error behind it."""
    cause = exc.__cause__
    errors = cause.errors() if hasattr(cause, "errors") else []
    first = errors[0] if errors else {"type": "", "msg": str(exc.message), "ctx": {}}
    message = str(first.get("msg", ""))
    if "is not one of" in message:
        return "应为以下之一：" + "、".join(_choices(message.split("is not one of", 1)[1]))
    return problem_message(first, "")


def _message(exc: click.ClickException) -> str:  # noqa: PLR0911 - one return per class
    """The error itself, by its class; an unknown usage error by its known English forms."""
    ex = click.exceptions
    if isinstance(exc, ex.MissingParameter):
        name = _param_name(exc.param)
        return f"缺少{name}" if exc.param is not None else "缺少参数"
    if isinstance(exc, ex.BadParameter):
        return f"{_param_name(exc.param)} 的值无效：{_bad_value(exc)}".replace("」 的", "」的")
    if isinstance(exc, ex.NoSuchOption):
        hint = "（可用：" + "、".join(sorted(exc.possibilities)) + "）" if exc.possibilities else ""
        return f"没有选项 {exc.option_name}{hint}"
    if isinstance(exc, ex.BadOptionUsage):
        if "requires" in exc.message:
            return f"选项 {exc.option_name} 后面需要填写值"
        if "does not take a value" in exc.message:
            return f"选项 {exc.option_name} 不带值"
        return f"选项 {exc.option_name} 用法不正确"
    if isinstance(exc, ex.FileError):
        return f"无法打开文件「{exc.ui_filename}」"
    return _usage_message(exc.message)


_KNOWN_USAGE = (
    (re.compile(r"No such command '([^']*)'\.(?: Did you mean (.*)\?)?"), "no_such_command"),
    (re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)"), "extra"),
    (re.compile(r"Missing command\."), "missing_command"),
)


def _usage_message(message: str) -> str:
    for pattern, kind in _KNOWN_USAGE:
        match = pattern.match(message)
        if match is None:
            continue
        if kind == "no_such_command":
            hint = (
                "（是否要用：" + "、".join(_choices(match.group(2))) + "）"
                if match.group(2)
                else ""
            )
            return f"没有命令「{match.group(1)}」{hint}"
        if kind == "extra":
            return f"多余的参数：{match.group(1)}"
        return "缺少命令"
    return "命令行用法不正确" if re.search(r"[A-Za-z]{3,}", message) else message


def error_lines(exc: click.ClickException) -> Iterable[str]:
    """A usage error as a person reads it: the usage line, where help is, what is wrong."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        yield ctx.get_usage()
        if ctx.command.get_help_option(ctx) is not None:
            yield f"运行「{ctx.command_path} {ctx.help_option_names[0]}」查看帮助。"
    yield f"错误：{_message(exc)}"

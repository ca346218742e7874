"""`duban demo seed`: the living demo of `make run` (`duban.app.demo`), with its progress and
one-time sign-in links for a liaison, the office and an auditor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from duban.app.demo import seed, sign_in_links
from duban.cli.common import AsOpt, require, services, user_errors
from duban.settings.logs import register_secrets

__all__ = ["register"]

demo_app = typer.Typer(help="演示：生成一个季度的演示数据", no_args_is_help=True)
DEFAULT_SAMPLE = Path("examples/tasks-2024.csv")


@demo_app.command("seed")
def demo_seed(
    sample: Annotated[
        Path,
        typer.Option(
            "--sample",
            help="示例任务清单（年份改为今年后导入；缺省为随附的示例清单）",
            show_default=False,
        ),
    ] = DEFAULT_SAMPLE,
    url: Annotated[
        str | None, typer.Option("--url", help="工作台地址（缺省用配置文件中设置的工作台地址）")
    ] = None,
    links: Annotated[
        bool,
        typer.Option(
            "--links/--no-links", help="是否生成一次性登录链接（缺省生成）", show_default=False
        ),
    ] = True,
    as_: AsOpt = "office",
) -> None:
    """导入改为今年的示例任务清单，并模拟一个季度的办理（签收、报送、延期、销号、督办、批示）；
    重复运行不会改动已有数据。"""
    require(as_, "admin")
    svc = services()
    with user_errors():
        report = seed(svc, sample, typer.echo)
    done = "演示数据已生成" if report.seeded else "演示数据已就绪"
    typer.echo(f"{done}：{report.year} 年任务清单，模拟办理 {len(report.steps)} 步")
    if not links:
        return
    with user_errors():
        issued = sign_in_links(svc, url)
    register_secrets([i.link.rsplit("=", 1)[-1] for _, i in issued])
    typer.echo("登录链接（每个只能使用一次）：")
    for label, invitation in issued:
        typer.echo(f"  {label} {invitation.name}: {invitation.link}")


def register(app: typer.Typer) -> None:
    app.add_typer(demo_app, name="demo")

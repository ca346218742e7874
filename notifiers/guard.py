"""Where a webhook may point, how it is shown, and the non-secret name it goes by.

A webhook URL *is* a credential (WeCom's key, DingTalk's access_token, Feishu's hook id), so a
robot may only post to its platform's own host over https, unless the admin allow-listed the
host explicitly (a local fake in tests, an egress proxy). Everything shown to people or written
to logs goes through `redact_url`; everything that needs a stable name uses `fingerprint`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from urllib.parse import urlsplit, urlunsplit

from notifiers.errors import UnknownPlatform, WebhookNotAllowed

__all__ = ["PLATFORM_HOSTS", "check_webhook", "fingerprint", "redact_url", "webhook_secrets"]

PLATFORM_HOSTS: dict[str, frozenset[str]] = {
    "wecom": frozenset({"qyapi.weixin.qq.com"}),
    "dingtalk": frozenset({"oapi.dingtalk.com"}),
    "feishu": frozenset({"open.feishu.cn", "open.larksuite.com"}),
}
# The path on the platform's own host, and where the credential sits in the URL.
_PATHS = {
    "wecom": "/cgi-bin/webhook/send",
    "dingtalk": "/robot/send",
    "feishu": "/open-apis/bot/v2/hook/",
}
_PLATFORM_NAMES = {"wecom": "企业微信", "dingtalk": "钉钉", "feishu": "飞书"}
_SECRET_PARAMS = frozenset({"key", "access_token", "token", "sign", "secret"})
_FEISHU_HOOK = "/open-apis/bot/v2/hook/"
_DEFAULT_PORTS = {"https": 443, "http": 80}


def check_webhook(url: str, platform: str, allowed_hosts: Collection[str] = ()) -> None:
    """Raise `WebhookNotAllowed` unless `url` may receive this platform's robot messages.

    `allowed_hosts` entries are `host` (default port only) or `host:port`; for them plain http
    is accepted too (a loopback fake, a proxy on the local network).
    """
    if platform not in PLATFORM_HOSTS:
        raise UnknownPlatform(f"没有这种群机器人平台：{platform}")
    shown = redact_url(url)
    label = f"{_PLATFORM_NAMES[platform]}机器人地址 {shown}"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise WebhookNotAllowed(f"{label}：不是有效的网址（{exc}）") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in _DEFAULT_PORTS or not host:
        raise WebhookNotAllowed(f"{label}：须为带主机名的 https 地址")
    if parts.username is not None or parts.password is not None:
        raise WebhookNotAllowed(f"{label}：地址中不能含用户名或密码")
    if not _normal_path(parts.path):
        raise WebhookNotAllowed(
            f"{label}：路径只能由字母、数字和 - . _ ~ 组成，以单个斜杠分隔"
            "（不能有 . 或 .. 段、百分号转义或反斜杠）"
        )
    official = host in PLATFORM_HOSTS[platform] and port in (None, 443)
    if official and parts.scheme == "https":
        if not _robot_path(parts.path, platform):
            raise WebhookNotAllowed(f"{label}：不是该平台的机器人路径")
    elif not _allow_listed(host, port or _DEFAULT_PORTS[parts.scheme], parts.scheme, allowed_hosts):
        raise WebhookNotAllowed(
            f"{label}：主机 {host} 既不是该平台的（https 的 "
            f"{'、'.join(sorted(PLATFORM_HOSTS[platform]))}），也不在允许名单（allowed_hosts）中"
        )
    if not _credential(url, platform):
        raise WebhookNotAllowed(f"{label}：缺少机器人的 key 或 access_token")


# A path as it is sent: what is checked is what an HTTP client requests, byte for byte. Clients
# resolve `.`/`..` segments (and some servers `%2e`, `\\` and `//`), so none may appear.
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9\-._~]+)*/?")


def _normal_path(path: str) -> bool:
    segments = path.split("/")[1:]
    return bool(_PLAIN_PATH.fullmatch(path)) and not any(s in (".", "..") for s in segments)


def _robot_path(path: str, platform: str) -> bool:
    """The platform's own robot path: exactly it, or for Feishu the hook path and one id."""
    if platform == "feishu":
        hook_id = path.removeprefix(_FEISHU_HOOK)
        return path.startswith(_FEISHU_HOOK) and "/" not in hook_id
    return path == _PATHS[platform]


def _allow_listed(host: str, port: int, scheme: str, allowed_hosts: Collection[str]) -> bool:
    default = port == _DEFAULT_PORTS[scheme]
    for entry in allowed_hosts:
        name, _, entry_port = entry.strip().lower().rpartition(":")
        if not name or not entry_port.isdigit():
            name, entry_port = entry.strip().lower(), ""
        if name.strip("[]") == host and (int(entry_port) == port if entry_port else default):
            return True
    return False


def _credential(url: str, platform: str) -> str:
    """The secret part of a webhook URL (key, access_token or hook id); empty when missing."""
    parts = urlsplit(url.strip())
    if platform == "feishu":
        _, _, hook_id = parts.path.partition(_FEISHU_HOOK)
        return hook_id.strip("/")
    wanted = "key" if platform == "wecom" else "access_token"
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        if name == wanted and value:
            return value
    return ""


def webhook_secrets(url: str) -> tuple[str, ...]:
    """Every substring of `url` that must never be shown: the credential and the URL itself."""
    found = [url.strip()]
    for platform in PLATFORM_HOSTS:
        cred = _credential(url, platform)
        if cred:
            found.append(cred)
    return tuple(found)


def redact_url(url: str) -> str:
    """`url` with its key, access_token, hook id and password replaced by `***`."""
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc
        if parts.password is not None:
            netloc = netloc.replace(f":{parts.password}@", ":***@")
    except ValueError:
        return "***"
    path = parts.path
    if _FEISHU_HOOK in path:
        path = path[: path.index(_FEISHU_HOOK) + len(_FEISHU_HOOK)] + "***"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _redact_pair(pair: str) -> str:
    name, eq, _ = pair.partition("=")
    return f"{name}=***" if eq and name.lower() in _SECRET_PARAMS else pair


def fingerprint(url: str) -> str:
    """A stable, non-secret name for a robot: the first 16 hex digits of sha256(url)."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]

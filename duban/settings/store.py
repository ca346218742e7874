"""From the config's store URL to the eventsourcing persistence settings."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from eventsourcing.utils import get_topic

from projections.pg_schema import SchemaLockedPostgresFactory
from projections.sqlite_wal import CheckpointedSQLiteFactory

__all__ = [
    "StoreURLError",
    "is_sqlite",
    "postgres_conninfo",
    "redact_store_url",
    "sqlite_path",
    "store_env",
]


class StoreURLError(ValueError):
    pass


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:///")


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def store_env(url: str) -> dict[str, str]:
    """Environment for `Application(env=...)`: SQLite file or PostgreSQL server."""
    if is_sqlite(url):
        path = sqlite_path(url)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # eventsourcing.sqlite, the WAL checkpointed in a thread of its own (projections.sqlite_wal)
        return {
            "PERSISTENCE_MODULE": get_topic(CheckpointedSQLiteFactory),
            "SQLITE_DBNAME": str(path),
        }
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        raise StoreURLError(
            f"不是可用的存储地址：{redact_store_url(url)}"
            "（应为 sqlite:///路径 或 postgresql://用户@主机:端口/库名）"
        )
    return {
        # eventsourcing.postgres, its tables created one process at a time (projections.pg_schema)
        "PERSISTENCE_MODULE": get_topic(SchemaLockedPostgresFactory),
        "POSTGRES_DBNAME": parts.path.strip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
    }


def redact_store_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def postgres_conninfo(url: str) -> str:
    """A libpq conninfo string for direct connections (views, locks, rate limits)."""
    env = store_env(url)
    return (
        f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} dbname={env['POSTGRES_DBNAME']} "
        f"user={env['POSTGRES_USER']} password={env['POSTGRES_PASSWORD']}"
    )

"""The settings table: every knob tracevault has, its default, env var and help text.

A setting is read, in order of precedence, from an explicit argument (CLI option or
``Settings(...)`` keyword), the environment variable ``TRACEVAULT_<NAME>``, then its
default. ``docs/configuration.md`` is checked against this table by a test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ._exceptions import ConfigError

__all__ = ["SETTINGS", "Setting", "Settings", "default_store_path", "parse_api_keys"]


@dataclass(frozen=True)
class Setting:
    """One configurable value."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return "TRACEVAULT_" + self.name.upper()


def _size(text: str) -> int:
    """Parse ``"64MB"``, ``"512KB"``, ``"1GB"`` or a plain byte count."""
    units = {"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "B": 1}
    t = text.strip().upper()
    for unit, mult in units.items():
        if t.endswith(unit) and t[: -len(unit)].strip().replace(".", "", 1).isdigit():
            return int(float(t[: -len(unit)]) * mult)
    if t.isdigit():
        return int(t)
    raise ConfigError(f"not a size: {text!r} (use e.g. 64MB)")


def _seconds(text: str) -> float:
    """Parse ``"90s"``, ``"15m"``, ``"6h"``, ``"1d"`` or plain seconds; 0 means off."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
    t = text.strip().lower()
    mult = units.get(t[-1:], None) if t else None
    number = t[:-1] if mult else t
    try:
        value = float(number or "0") * (mult or 1)
    except ValueError:
        raise ConfigError(f"not a duration: {text!r} (use e.g. 6h, 15m, 90s)") from None
    if value < 0:
        raise ConfigError(f"a duration cannot be negative: {text!r}")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"not an integer: {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"not a number: {text!r}") from None


def _bool(text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"not a boolean: {text!r}")


def _workers(text: str) -> int:
    """``auto`` (one per core beyond the first) or a count; 0 ingests in-process."""
    if text.strip().lower() == "auto":
        cores = os.cpu_count() or 1
        return max(1, cores - 1) if cores >= 2 else 0
    value = _int(text)
    if value < 0:
        raise ConfigError("ingest_workers must be 0 or more (or auto)")
    return value


def parse_api_keys(text: str) -> dict[str, str]:
    """Parse ``"KEY1=project1,KEY2=project2"`` (or a path to a file of such lines)."""
    text = text.strip()
    if not text:
        return {}
    if "=" not in text and Path(text).is_file():
        text = ",".join(
            line.strip() for line in Path(text).read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )
    keys: dict[str, str] = {}
    for item in text.replace("\n", ",").split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, project = item.partition("=")
        if not sep or not key.strip() or not project.strip():
            raise ConfigError(f"API key entry {item!r} is not of the form KEY=PROJECT")
        keys[key.strip()] = project.strip()
    return keys


def default_store_path() -> str:
    """Where the embedded store lives when no ``--store`` / ``TRACEVAULT_STORE`` is given."""
    return str(Path.home() / ".tracevault" / "tracevault.duckdb")


SETTINGS: tuple[Setting, ...] = (
    Setting("store", None, "Store location: a DuckDB file path (default "
            "~/.tracevault/tracevault.duckdb) or a DuckLake URL "
            "(ducklake:postgres://USER@HOST:PORT/DB?data_path=DIR, docs/operations.md)."),
    Setting("host", "127.0.0.1", "Interface the HTTP server binds to."),
    Setting("port", 4318, "HTTP port (OTLP/HTTP, REST API, web UI).", _int),
    Setting("grpc_port", 4317, "OTLP/gRPC port; 0 disables the gRPC receiver.", _int),
    Setting("api_keys", "", "API keys as KEY=PROJECT pairs separated by commas, or a file "
            "with one pair per line. When set, every request needs a key and sees only its "
            "project.", parse_api_keys),
    Setting("default_project", "default", "Project for data that names none."),
    Setting("max_body_bytes", 64 << 20, "Largest accepted request body (after "
            "decompression); larger bodies get HTTP 413.", _size),
    Setting("max_value_bytes", 16 << 20, "Largest single attribute value; a span carrying "
            "a larger one is rejected in partial_success.", _size),
    Setting("memory_limit", "1GB", "DuckDB memory_limit for the store."),
    Setting("duckdb_threads", 1, "DuckDB threads in the server; 1 leaves the other cores to "
            "ingest workers. Raise it for query-heavy servers.", _int),
    Setting("batch_max_spans", 4096, "Most spans written in one group commit.", _int),
    Setting("batch_max_wait_ms", 10.0, "How long the writer waits to grow a group commit.",
            _float),
    Setting("queue_max_spans", 50_000, "Spans waiting for commit before ingest answers 429 "
            "/ RESOURCE_EXHAUSTED.", _int),
    Setting("ingest_workers", "auto", "Processes that decode and normalise OTLP beside the "
            "writer: auto (cores - 1), or a count; 0 does it in the server process.",
            _workers),
    Setting("queue_max_bytes", 256 << 20, "Request bodies being processed at once before "
            "ingest answers 429 / RESOURCE_EXHAUSTED; bounds memory under overload.", _size),
    Setting("content_cache_mb", 64, "Memory for the per-trace caches that let ingest store "
            "only the new part of growing message histories.", _int),
    Setting("redact", "", "Redaction detectors applied at ingest, comma separated: email, "
            "phone, card, api_key, iban, or all (docs/compliance.md)."),
    Setting("redact_rules", "", "JSON file of custom redaction rules: "
            '[{"name", "pattern" | "attribute"}].'),
    Setting("redact_key", "", "Secret for keyed hashing of redacted values (equal values "
            "get equal tokens); empty: plain [REDACTED:rule]."),
    Setting("retention_every", 0.0, "Apply the store's retention policies this often "
            "(e.g. 6h, 15m; 0: only when asked, docs/compliance.md).", _seconds),
    Setting("policy_rules", "", "YAML file of policy rules checked on trace groups as spans "
            "arrive; results are stored as online scores (docs/policies.md). Empty: off."),
    Setting("node_id", "local", "Name of this node in the integrity ledger (its own chain; "
            "on a DuckLake, local becomes HOST-PID: give each node a stable name)."),
    Setting("log_level", "info", "Server log level (debug, info, warning, error)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass
class Settings:
    """Resolved configuration. Unset fields come from the environment, then defaults."""

    store: str | None = None
    host: str = "127.0.0.1"
    port: int = 4318
    grpc_port: int = 4317
    api_keys: dict[str, str] = field(default_factory=dict)
    default_project: str = "default"
    max_body_bytes: int = 64 << 20
    max_value_bytes: int = 16 << 20
    memory_limit: str = "1GB"
    duckdb_threads: int = 1
    batch_max_spans: int = 4096
    batch_max_wait_ms: float = 10.0
    queue_max_spans: int = 50_000
    queue_max_bytes: int = 256 << 20
    ingest_workers: int | str = "auto"
    content_cache_mb: int = 64
    redact: str = ""
    redact_rules: str = ""
    redact_key: str = ""
    retention_every: float = 0.0
    policy_rules: str = ""
    node_id: str = "local"
    log_level: str = "info"

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``overrides`` (None means unset), the environment and defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            setting = _BY_NAME[f.name]
            given = overrides.get(f.name)
            if given is not None:
                values[f.name] = (
                    setting.parse(given) if isinstance(given, str) and setting.parse is not str
                    else given
                )
            elif setting.env in env:
                values[f.name] = setting.parse(env[setting.env])
        unknown = set(overrides) - set(_BY_NAME)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        settings = cls(**values)
        if isinstance(settings.ingest_workers, str):
            settings.ingest_workers = _workers(settings.ingest_workers)
        return settings

    @property
    def store_path(self) -> str:
        """The store location, with the default applied."""
        return self.store or default_store_path()

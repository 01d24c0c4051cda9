"""Settings, read from the environment (prefix ``TICHUB_``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TICHUB_", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{VAR_DIR / 'tichub.db'}")
    # Empty means: keep a generated key in var/secret_key, outside the repository.
    secret_key: str = ""
    cookie_secure: bool = True
    session_hours: int = 12
    default_locale: str = "zh"
    sql_echo: bool = False
    # The report transparency log: its name, its Ed25519 key (PRIVATE+KEY+<origin>+...;
    # empty: generated into var/log_key) and how often entries are integrated (seconds;
    # 0: only by `tichub log integrate`).
    log_origin: str = "tichub.example/reports"
    log_key: str = ""
    log_integrate_every: float = 0.5
    # SQLite: how long a write waits for the single writer before it is answered 503 with
    # Retry-After (seconds).
    write_wait: float = 10.0
    # Witnesses the log pushes each new checkpoint to (C2SP tlog-witness add-checkpoint),
    # as a JSON list of submission prefixes: ["https://witness.example/w1"].
    log_witness_urls: list[str] = []
    # E-mail for notifications; no host: in-app notifications only.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "TICHub <noreply@tichub.example>"
    # How links in e-mails begin.
    public_url: str = "http://127.0.0.1:8000"
    # PACT's host API (/pact) answers over HTTPS only. Behind a proxy that terminates TLS,
    # list the proxy's addresses or networks (JSON: ["10.0.0.5", "10.1.0.0/16"]): a request
    # from one of them saying X-Forwarded-Proto: https counts as HTTPS.
    trusted_proxies: list[str] = []
    # Requests one process works on at once, in each of two lanes (public verification and
    # the log's files; everything else); beyond, up to max_queued wait at most queue_wait
    # seconds for a place, and the rest are answered 503 with Retry-After at once.
    max_in_flight: int = Field(default=16, ge=1)
    max_queued: int = Field(default=64, ge=0)
    queue_wait: float = Field(default=2.0, ge=0)

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        return _local_secret_key()


    def resolved_log_key(self) -> str:
        if self.log_key:
            return self.log_key
        from tichub.reports.note import Signer

        return _local_secret("log_key", lambda: Signer.generate(self.log_origin).encode())


def _local_secret_key() -> str:
    return _local_secret("secret_key", lambda: secrets.token_urlsafe(48))


def _local_secret(name: str, make: Callable[[], str]) -> str:
    """A secret kept in var/ (outside the repository, readable by its owner alone)."""
    path = VAR_DIR / name
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()

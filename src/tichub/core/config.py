"""Settings, read from the environment (prefix ``TICHUB_``)."""

from __future__ import annotations

import secrets
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

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        return _local_secret_key()


def _local_secret_key() -> str:
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Schema migrations with Alembic, driven from code so the installed package carries them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from tichub.core.db import Base

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Objects the migrations make by hand, outside the models: full-text tables and triggers.
HAND_MADE_PREFIXES = ("search_fts", "ix_search_docs_words_", "bookings_no_overlap")


def _import_models() -> None:
    # Every domain's tables must be on the metadata before Alembic compares.
    import tichub.carbon.models
    import tichub.core.models
    import tichub.market.models
    import tichub.pt.models
    import tichub.registry.models
    import tichub.reports.models
    import tichub.supervision.models  # noqa: F401


_import_models()
target_metadata = Base.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (name and name.startswith(HAND_MADE_PREFIXES))


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str | None = None, connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection), "head")

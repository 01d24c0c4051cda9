"""Chinese by default, English by switch: Babel catalogues read straight from the .po files.

Message ids are English; ``locale/zh/LC_MESSAGES/*.po`` hold the Chinese: ``messages.po``
and one file per domain (``market.po``, ...), merged in name order, so that work on two
domains never edits the same file. The catalogue is compiled in memory at start-up, so no
build step produces .mo files. ``MISSES`` collects, when a test asks, the message ids that
a catalogue lacked.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request

LOCALES = ("zh", "en")
LOCALE_COOKIE = "tichub_lang"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


# (locale, context or None, msgid) that a catalogue lacked, while ``record_misses`` is on.
MISSES: set[tuple[str, str | None, str]] = set()
record_misses = False


class _Catalogue(Translations):
    """Translations that can say which message ids they lacked (for the locale tests)."""

    locale_name = ""

    def gettext(self, message: str) -> str:
        out = super().gettext(message)
        if record_misses and out == message and message:
            MISSES.add((self.locale_name, None, message))
        return out

    def pgettext(self, context: str, message: str) -> str:
        out = str(super().pgettext(context, message))
        if record_misses and out == message and message:
            MISSES.add((self.locale_name, context, message))
        return out

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        out = super().ngettext(singular, plural, n)
        if record_misses and out in (singular, plural):
            MISSES.add((self.locale_name, None, singular))
        return out


def catalogue_files(locale: str) -> list[Path]:
    """messages.po first (its header says how plurals work), then the domains' files."""
    return sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"),
                  key=lambda p: (p.name != "messages.po", p.name))


@lru_cache
def translations(locale: str) -> NullTranslations:
    files = catalogue_files(locale)
    if not files:
        return NullTranslations()
    merged: Catalog | None = None
    for po in files:
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id and message.string:
                # A later file's translation wins (keyed by id and context).
                merged.delete(message.id, context=message.context)
                merged[message.id] = message
    assert merged is not None
    buf = io.BytesIO()
    write_mo(buf, merged)
    buf.seek(0)
    out = _Catalogue(fp=buf)
    out.locale_name = locale
    return out


def request_locale(request: Request, default: str = "zh") -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    return default

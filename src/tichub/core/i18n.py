"""Chinese by default, English by switch: Babel catalogues read straight from the .po files.

Message ids are English; ``locale/zh/LC_MESSAGES/messages.po`` holds the Chinese. The
catalogue is compiled in memory at start-up, so no build step produces .mo files.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request

LOCALES = ("zh", "en")
LOCALE_COOKIE = "tichub_lang"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@lru_cache
def translations(locale: str) -> NullTranslations:
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


def request_locale(request: Request, default: str = "zh") -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    return default

"""Messages for people, translated where they are shown.

A use case refuses with a ``Msg``: an English message id with named parameters. It *is* a
``str`` (the English text), so API clients, logs and tests read it as before; a page shows
``Msg.localize(locale)``, where the catalogue's text takes the same parameters. Parameters
that are themselves ``Msg`` (a field's label, a status) are translated too.

    raise errors.invalid("amount_fen", Msg(
        "a voucher pays at most {percent} % of the order: {limit} yuan",
        percent=50, limit=yuan(limit)))

``pybabel extract`` finds them by the keywords ``Msg`` and ``MsgC`` (see babel.cfg); a test
checks that every one has its Chinese.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from babel.support import NullTranslations

Param = Any  # str, int, float, Msg, or an Enum member (shown as its label)


class Msg(str):
    """An English message with parameters, translatable later. ``context`` tells apart
    one English phrase with two meanings (gettext's msgctxt)."""

    msgid: str
    context: str | None
    params: dict[str, Param]

    def __new__(cls, msgid: str, /, **params: Param) -> Msg:
        return cls._make(msgid, None, params)

    @classmethod
    def _make(cls, msgid: str, context: str | None, params: dict[str, Param]) -> Msg:
        self = super().__new__(cls, _fill(msgid, params, str))
        self.msgid = msgid
        self.context = context
        self.params = params
        return self

    def localize(self, locale_or_translations: str | NullTranslations) -> str:
        tr = _translations(locale_or_translations)
        if self.context is not None:
            template = str(tr.pgettext(self.context, self.msgid))
        else:
            template = str(tr.gettext(self.msgid))
        try:
            return _fill(template, self.params, lambda p: translate(p, tr))
        except (KeyError, IndexError, ValueError):
            # A translation naming a parameter the English lacks: the English, rather than a
            # failed page or a template with its braces showing.
            return str(self)

    def as_json(self) -> dict[str, Any]:
        """A form that survives a cookie: parameters as JSON values (Msgs nested)."""
        return {"id": self.msgid, "ctx": self.context,
                "params": {k: _param_json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Msg:
        params = {k: cls.from_json(v) if isinstance(v, dict) else v
                  for k, v in dict(data.get("params") or {}).items()}
        return cls._make(str(data["id"]), data.get("ctx"), params)


def MsgC(context: str, msgid: str, /, **params: Param) -> Msg:
    """A message whose English words mean different things elsewhere: "Name" of a person
    (姓名) is not the "Name" of a programme (名称)."""
    return Msg._make(msgid, context, params)


def translate(text: Any, locale_or_translations: str | NullTranslations) -> str:
    """What a page shows for a message, a label or a value: a ``Msg`` or an enum member in
    the reader's language; anything else as it is (people's own data: names, numbers)."""
    if isinstance(text, Msg):
        return text.localize(locale_or_translations)
    if isinstance(text, Enum):
        return translate(enum_label(text), locale_or_translations)
    return "" if text is None else str(text)


def enum_label(member: Enum) -> Msg:
    """An enum member as people call it. Its msgid is the member's value, under the enum's
    name as context (``order status`` + ``report_issued``), so "open" of a PT round and
    "open" of an order may differ; the English catalogue holds the English words."""
    return MsgC(_enum_context(type(member)), str(member.value))


def _enum_context(kind: type[Enum]) -> str:
    return getattr(kind, "__label_context__", kind.__name__)


def _fill(template: str, params: Mapping[str, Param], show: Callable[[Any], str]) -> str:
    if not params:
        return template
    try:
        return template.format(**{k: show(v) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        if show is str:  # the English itself: its text as written
            return template
        raise


def _param_json(value: Param) -> Any:
    if isinstance(value, Msg):
        return value.as_json()
    if isinstance(value, Enum):
        return enum_label(value).as_json()
    if isinstance(value, (int, float, str)) or value is None:
        return value
    return str(value)


def _translations(which: str | NullTranslations) -> NullTranslations:
    if isinstance(which, NullTranslations):
        return which
    from tichub.core.i18n import translations  # i18n reads files; keep the import lazy

    return translations(which)


def shown_enums() -> list[type[Enum]]:
    """The enums whose members pages show: every Enum of the tichub package's modules
    that does not say ``__internal__ = True`` (imports every module to find them)."""
    import importlib
    import pkgutil

    import tichub

    for info in pkgutil.walk_packages(tichub.__path__, "tichub."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
    found: dict[str, type[Enum]] = {}
    stack: list[type[Enum]] = list(Enum.__subclasses__())
    while stack:
        kind = stack.pop()
        stack.extend(kind.__subclasses__())
        if kind.__module__.startswith("tichub.") and not getattr(kind, "__internal__", False) \
                and len(kind):
            found[f"{kind.__module__}.{kind.__qualname__}"] = kind
    return [found[k] for k in sorted(found)]

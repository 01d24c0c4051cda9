"""What people call the fields that errors name: ``report_number`` is "Report number".

Problem+json keeps the field's own name for API clients; pages show its label. Each domain
registers its labels (``fields.register({...})`` in its views module); a field without one
is not named on a page, only its message is shown."""

from __future__ import annotations

from collections.abc import Mapping

from tichub.core.messages import Msg

LABELS: dict[str, Msg] = {}


def register(labels: Mapping[str, Msg]) -> None:
    LABELS.update(labels)


def label(field: str) -> Msg | None:
    """The label of ``field`` (``records.0.unit`` falls back to ``unit``), or None."""
    if field in LABELS:
        return LABELS[field]
    last = field.rsplit(".", 1)[-1]
    return LABELS.get(last)

"""What people call the fields that errors name: ``report_number`` is "Report number".

Problem+json keeps the field's own name for API clients; pages show its label. Each domain
registers its labels for the pages under its own path (``fields.register({...},
under="/market")`` in its views module), since one name means different things in two
domains ("institution_id": the lab asked to quote, the institution issuing a report). A field
without a label is not named on a page; only its message is shown."""

from __future__ import annotations

from collections.abc import Mapping

from tichub.core.messages import Msg

# path prefix -> field name -> label; "" holds labels for every page.
LABELS: dict[str, dict[str, Msg]] = {}


def register(labels: Mapping[str, Msg], under: str = "") -> None:
    LABELS.setdefault(under, {}).update(labels)


def label(field: str, path: str = "") -> Msg | None:
    """The label of ``field`` on the page at ``path`` (``records.0.unit`` falls back to
    ``unit``; the longest registered prefix of ``path`` first, then the shorter ones)."""
    last = field.rsplit(".", 1)[-1]
    for prefix in sorted((p for p in LABELS if path.startswith(p)), key=len, reverse=True):
        found = LABELS[prefix].get(field) or LABELS[prefix].get(last)
        if found is not None:
            return found
    return None

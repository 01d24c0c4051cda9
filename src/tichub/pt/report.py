"""The round report as a document: what it shows (charts included), its digest, and its
HTML and PDF. The report page and the background PDF job both build it here."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from tichub.core.auth import Principal
from tichub.core.messages import Msg
from tichub.core.web import html_to_pdf, templates_for
from tichub.pt import charts, service, stats
from tichub.pt.models import PtRound

# Part of every digest: raise it when the report's layout changes, so cached PDFs are
# rendered again.
LAYOUT_VERSION = "2"


def digest(rnd: PtRound, measurands: list[service.MeasurandReport], mine: set[str],
           locale: str) -> str:
    """What the report shows, as one hash: a cached PDF with the same digest is current."""
    content = {
        "layout": LAYOUT_VERSION, "locale": locale, "mine": sorted(mine),
        "round": [rnd.id, rnd.code, rnd.title, rnd.status.value, rnd.score, rnd.items,
                  rnd.computed_at, rnd.published_at, rnd.scheme.code, rnd.scheme.name_zh,
                  rnd.scheme.name_en],
        "measurands": [[m.name, m.name_en, m.unit, m.assigned_kind, m.method, m.sigma_kind,
                        m.homogeneity.get("result"), m.stability.get("result"),
                        [[it.item, it.computed, it.rows] for it in m.items]]
                       for m in measurands],
    }
    text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def context(db: Session, principal: Principal, round_id: str,
            fmt: charts.Format = "svg") -> dict[str, Any]:
    """The report's template context; charts as SVG for the page, PNG for print."""
    rnd, measurands, mine = service.round_report(db, principal, round_id)
    return build(rnd, measurands, mine, fmt)


def build(rnd: PtRound, measurands: list[service.MeasurandReport], mine: set[str],
          fmt: charts.Format = "svg") -> dict[str, Any]:
    sections = []
    own = sorted(mine)
    for m in measurands:
        for it in m.items:
            st = it.computed
            codes = [r["code"] for r in it.rows]
            steps = []
            if (m.assigned_kind == "consensus" and m.method == "algorithm-a"
                    and st.get("iterations") and len(it.rows) >= 2):
                steps = stats.algorithm_a_steps([r["value"] for r in it.rows],
                                                int(st["iterations"]))
            sections.append({
                "measurand": m, "item": it.item, "stats": st, "rows": it.rows, "steps": steps,
                "warnings": warnings(st),
                "histogram": charts.histogram([r["value"] for r in it.rows], st.get("x_pt"),
                                              st.get("sigma_pt"), m.unit, fmt=fmt)
                if it.rows else "",
                "ordered": charts.ordered_z(codes, [r[rnd.score] for r in it.rows], own,
                                            fmt=fmt) if it.rows else ""})
        if len(m.items) >= 2 and all(i.rows for i in m.items[:2]):
            a, b = m.items[0], m.items[1]
            za = {r["code"]: r["z"] for r in a.rows}
            zb = {r["code"]: r["z"] for r in b.rows}
            codes = sorted(set(za) & set(zb))
            sections.append({"measurand": m, "youden": charts.youden(
                codes, [za[c] for c in codes], [zb[c] for c in codes], a.item, b.item, own,
                fmt=fmt), "item": f"{a.item}/{b.item}"})
    return {"rnd": rnd, "sections": sections, "mine": mine}


def warnings(computed: dict[str, Any]) -> list[str]:
    """An item's warnings as messages, translated where shown (statistics computed before
    the messages were kept show in English)."""
    notes = computed.get("notes")
    if isinstance(notes, list):
        return [Msg.from_json(n) for n in notes if isinstance(n, dict)]
    return [str(w) for w in computed.get("warnings") or []]


def html(locale: str, principal: Principal, report: dict[str, Any]) -> str:
    return templates_for(locale).get_template("pt/report.html").render(
        request=None, principal=principal, locale=locale, csrf="", printable=True, **report)


def pdf(locale: str, principal: Principal, report: dict[str, Any]) -> bytes:
    return html_to_pdf(html(locale, principal, report))

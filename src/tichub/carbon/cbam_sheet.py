"""The operator's communication to EU importers as an Excel workbook, and reading one back.

The sheets carry the data of the Commission's "communication template for installations"
under its sheet names: A_InstData (the installation and reporting period), Summary_Products
(each good's specific embedded emissions, default share, electricity), CarbonPrice (carbon
prices due in the country of origin), and Summary_Communication, the sheet importers take:
in English, one row per good. It is our own layout of that data, not the Commission's
workbook itself.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import Workbook, load_workbook

from tichub.carbon.cbam import GoodResult, Installation

SUMMARY = "Summary_Communication"
COLUMNS = ("Production process", "CN code", "Product name", "Production route",
           "SEE direct (tCO2e/t)", "SEE indirect (tCO2e/t)", "SEE total (tCO2e/t)",
           "SEE counted (tCO2e/t)", "Direct emissions only", "Share of default values",
           "Electricity EF source", "Embedded electricity (MWh/t)", "Carbon price due (EUR/t)")


@dataclass(frozen=True)
class CarbonPrice:
    """A carbon price due in the country of origin (Regulation 2023/956 Art. 9)."""

    cn: str
    instrument: str  # ETS, carbon tax, levy, fee
    legal_reference: str
    currency: str
    price_per_t: float  # per t CO2e, in ``currency``
    covered_t_per_t: float  # t CO2e of the good's embedded emissions the price covers
    rebate_t_per_t: float = 0.0  # of those, covered by rebates or free allocation
    fx_to_eur: float = 1.0  # the yearly average rate

    @property
    def due_eur_per_t(self) -> float:
        return self.price_per_t * max(self.covered_t_per_t - self.rebate_t_per_t, 0.0) \
            * self.fx_to_eur


@dataclass
class Communication:
    installation: dict[str, Any]
    goods: list[dict[str, Any]] = field(default_factory=list)


def write(inst: Installation, results: list[GoodResult],
          prices: list[CarbonPrice] = ()) -> bytes:  # type: ignore[assignment]
    wb = Workbook()
    a = wb.active
    assert a is not None
    a.title = "A_InstData"
    info: tuple[tuple[str, str], ...] = (
                ("Installation name", inst.name), ("Country", inst.country),
                ("UN/LOCODE", inst.unlocode),
                ("Reporting period start", inst.period_start.isoformat()),
                ("Reporting period end", inst.period_end.isoformat()),
                ("Period", "definitive" if inst.definitive else "transitional"))
    for pair in info:
        a.append(pair)
    routes = {p.key: p.route for p in inst.processes}
    due: dict[str, float] = {}
    for p in prices:
        due[p.cn.replace(" ", "")] = due.get(p.cn.replace(" ", ""), 0.0) + p.due_eur_per_t
    rows = [(r.process, r.cn, r.name, routes.get(r.process, ""), r.see_direct, r.see_indirect,
             r.see_total, r.see_counted, "yes" if r.direct_only else "no", r.default_share,
             next((p.electricity_ef_source for p in inst.processes if p.key == r.process), ""),
             r.embedded_electricity, due.get(r.cn.replace(" ", ""), 0.0)) for r in results]
    for title in ("Summary_Products", SUMMARY):
        sheet = wb.create_sheet(title)
        if title == SUMMARY:
            sheet.append(("Installation", inst.name, "Country", inst.country,
                          "Reporting period", f"{inst.period_start} – {inst.period_end}"))
        sheet.append(COLUMNS)
        for row in rows:
            sheet.append(row)
    cp = wb.create_sheet("CarbonPrice")
    cp.append(("CN code", "Instrument", "Legal reference", "Currency", "Price per tCO2e",
               "Covered tCO2e/t", "Rebate or free allocation tCO2e/t", "FX to EUR",
               "Due EUR/t"))
    for p in prices:
        cp.append((p.cn, p.instrument, p.legal_reference, p.currency, p.price_per_t,
                   p.covered_t_per_t, p.rebate_t_per_t, p.fx_to_eur, p.due_eur_per_t))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class SheetError(ValueError):
    pass


def read(data: bytes) -> Communication:
    """The installation and goods of a communication (ours, or any workbook with a
    Summary_Communication sheet whose header row names our columns)."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SheetError(f"not a readable Excel workbook ({exc})") from None
    if SUMMARY not in wb.sheetnames:
        raise SheetError(f"the workbook has no sheet named {SUMMARY}")
    rows = [list(r) for r in wb[SUMMARY].iter_rows(values_only=True)]
    header_at = next((i for i, r in enumerate(rows) if r and r[0] == COLUMNS[0]), None)
    if header_at is None:
        raise SheetError(f"{SUMMARY} has no header row starting with '{COLUMNS[0]}'")
    header = [str(h) if h is not None else "" for h in rows[header_at]]
    missing = [c for c in COLUMNS[:8] if c not in header]
    if missing:
        raise SheetError(f"{SUMMARY} lacks the columns: {', '.join(missing)}")
    info: dict[str, Any] = {}
    if header_at:
        first = rows[0]
        info = {str(first[i]): first[i + 1] for i in range(0, len(first) - 1, 2) if first[i]}
    if "A_InstData" in wb.sheetnames:
        info |= {str(r[0]): r[1] for r in wb["A_InstData"].iter_rows(values_only=True) if r[0]}
    goods = []
    for n, r in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(v not in (None, "") for v in r):
            continue
        good = dict(zip(header, r, strict=False))
        for c in (*COLUMNS[4:8], "Share of default values", "Embedded electricity (MWh/t)"):
            value = good.get(c)
            if value in (None, ""):
                continue
            try:
                good[c] = float(value)
            except (TypeError, ValueError):
                raise SheetError(f"row {n}: {c} is not a number ({value!r})") from None
        goods.append(good)
    return Communication(installation=info, goods=goods)


def period_of(comm: Communication) -> tuple[date, date] | None:
    start = comm.installation.get("Reporting period start")
    end = comm.installation.get("Reporting period end")
    if start and end:
        return date.fromisoformat(str(start)), date.fromisoformat(str(end))
    return None

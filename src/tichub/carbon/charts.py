"""Chart data for a footprint study's page, drawn by ECharts in the browser (web/static/app.js):
the stage waterfall, the Sankey of CO2e flows and the Monte Carlo histogram.

Pure: it shapes stored results; it draws nothing.
"""

from __future__ import annotations

import itertools
from typing import Any

from tichub.carbon.footprint import STAGES


def waterfall(by_stage: dict[str, float], labels: dict[str, str], total_label: str
              ) -> dict[str, Any]:
    """Each life-cycle stage as a step from the running sum (credits step down), ending in
    the total. ``labels`` name the stages in the page's language."""
    steps: list[tuple[str, float]] = []
    base: list[float] = []
    running = 0.0
    for stage in STAGES:
        value = by_stage.get(stage)
        if value is None:
            continue
        low = min(running, running + value)
        steps.append((labels.get(stage, stage), value))
        base.append(low)
        running += value
    return {"kind": "waterfall", "labels": [name for name, _ in steps] + [total_label],
            "base": [*base, 0.0], "values": [abs(v) for _, v in steps] + [running],
            "signed": [v for _, v in steps] + [running]}


def sankey(links: list[dict[str, Any]], contributions: list[dict[str, Any]],
           names: dict[str, str] | None = None) -> dict[str, Any]:
    """Flows of CO2e from factors and supplying processes into their consumers (``links``),
    and from direct emissions into the process that emits them (which ``links`` lack: they
    have no supplier). ECharts draws only acyclic graphs with positive flows: credits
    (negative) and a link that would close a loop are left out (the tables beside the chart
    carry them). ``names`` shows nodes by the names people know (a factor's name, not its
    key); a name that two nodes would share leaves the second as it is."""
    flows = [{"source": f"{c['input']} ({c['process']})", "target": c.get("node") or
              c["process"], "co2e": c["co2e"]} for c in contributions if c["kind"] == "emission"]
    kept: list[dict[str, Any]] = []
    reach: dict[str, set[str]] = {}  # node → nodes it reaches through kept links

    def reaches(a: str, b: str) -> bool:
        seen, todo = set(), [a]
        while todo:
            n = todo.pop()
            if n == b:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(reach.get(n, ()))
        return False

    for link in sorted(flows + links, key=lambda x: -float(x["co2e"])):
        source, target = str(link["source"]), str(link["target"])
        value = float(link["co2e"])
        if value <= 0 or source == target or reaches(target, source):
            continue
        reach.setdefault(source, set()).add(target)
        kept.append({"source": source, "target": target, "value": value})
    raw = sorted({n for k in kept for n in (k["source"], k["target"])})
    shown: dict[str, str] = {}
    taken: set[str] = set()
    for n in raw:
        name = (names or {}).get(n, n)
        shown[n] = name if name not in taken else n
        taken.add(shown[n])
    for k in kept:
        k["source"], k["target"] = shown[k["source"]], shown[k["target"]]
    return {"kind": "sankey", "nodes": [{"name": shown[n]} for n in raw], "links": kept}


def histogram(hist: dict[str, list[float]], unit: str) -> dict[str, Any]:
    """Monte Carlo outcomes per bin, labelled by each bin's centre."""
    edges, counts = hist.get("edges", []), hist.get("counts", [])
    centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    return {"kind": "histogram", "labels": [f"{c:.4g}" for c in centres],
            "values": list(counts), "unit": unit}

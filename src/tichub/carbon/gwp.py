"""Global warming potentials over 100 years, the weights that turn kilograms of each
greenhouse gas into kilograms of CO2 equivalent.

AR5: IPCC Fifth Assessment Report, WG I, chapter 8, table 8.A.1 (without climate–carbon
feedbacks; fossil methane's 30 from the same table's note on fossil CO2 from oxidation).
AR6: IPCC Sixth Assessment Report, WG I, chapter 7, table 7.SM.7 (methane, fossil and not,
also table 7.15), as the GHG Protocol tabulates them ("Global Warming Potential Values",
August 2024).
ISO 14067:2018 and GB/T 24067-2024 ask for the latest IPCC values; a study states its basis.
"""

from __future__ import annotations

BASES = ("AR6", "AR5")

GWP100: dict[str, dict[str, float]] = {
    "AR6": {
        "CO2": 1.0,
        "CH4": 27.0,  # non-fossil methane
        "CH4-fossil": 29.8,
        "N2O": 273.0,
        "SF6": 24300.0,
        "NF3": 17400.0,
        "CF4": 7380.0,
        "C2F6": 12400.0,
        "HFC-23": 14600.0,
        "HFC-32": 771.0,
        "HFC-125": 3740.0,
        "HFC-134a": 1530.0,
        "HFC-143a": 5810.0,
    },
    "AR5": {
        "CO2": 1.0,
        "CH4": 28.0,
        "CH4-fossil": 30.0,
        "N2O": 265.0,
        "SF6": 23500.0,
        "NF3": 16100.0,
        "CF4": 6630.0,
        "C2F6": 11100.0,
        "HFC-23": 12400.0,
        "HFC-32": 677.0,
        "HFC-125": 3170.0,
        "HFC-134a": 1300.0,
        "HFC-143a": 4800.0,
    },
}

# CO2e is already weighted: by the basis its source states, which a study on another basis
# can only take as it is (and says so).
GASES = ("CO2e", *GWP100["AR6"])


def weight(gas: str, basis: str) -> float:
    """kg CO2e per kg of ``gas`` on ``basis``."""
    if basis not in GWP100:
        raise ValueError(f"unknown GWP basis {basis!r}; one of {', '.join(BASES)}")
    if gas == "CO2e":
        return 1.0
    try:
        return GWP100[basis][gas]
    except KeyError:
        raise ValueError(f"unknown greenhouse gas {gas!r}; one of {', '.join(GASES)}") from None

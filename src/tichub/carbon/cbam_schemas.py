"""What the CBAM API takes and gives: an installation document (identity, reporting period,
source streams, production processes, purchased precursors, carbon prices paid) and the
specific embedded emissions computed from it, compared with the Commission's default values.

Validation names the field at fault by its path in the document (``processes.1.uses.0.source``),
so a refusal through the API or the form points at the exact cell to correct.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from tichub.carbon.cbam import clean_cn
from tichub.core.errors import FieldError
from tichub.core.messages import Msg
from tichub.core.schemas import InputModel

Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=500)]
# P1, PP1, kiln-2: how the Commission's template and our documents refer to rows.
Key = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
# ISO 3166-1 alpha-2, upper case (EU for the Union as a whole).
Country = Annotated[str, Field(min_length=2, max_length=2, pattern=r"^[A-Z]{2}$")]


def _check_cn(value: str) -> str:
    digits = clean_cn(value)
    if not digits.isdigit() or not 4 <= len(digits) <= 10:
        raise PydanticCustomError("cn", "a CN code has 4 to 10 digits")
    return value.strip()


# CN codes as people write them: 2523 29 00, 25232900, 7318.15.42; 4 to 10 digits.
CnCode = Annotated[str, Field(min_length=4, max_length=14, pattern=r"^[0-9][0-9 .]*$"),
                   AfterValidator(_check_cn)]


def _fault(loc: tuple[str | int, ...], message: str) -> FieldError:
    return FieldError(".".join(map(str, loc)), message)


class SourceStreamIn(InputModel):
    """A fuel or material the installation monitors (template sheet B_EmInst)."""

    name: Name
    method: Literal["combustion", "process", "mass_balance"]
    activity: Finite  # t or 1000 Nm3 over the period; a mass-balance output is negative
    unit: Literal["t", "1000Nm3"] = "t"
    ncv: NonNegative = 0.0  # GJ/t
    ef: NonNegative = 0.0  # t CO2/TJ (combustion) or t CO2/t (process)
    carbon_content: NonNegative = 0.0  # t C/t (mass balance)
    oxidation: Fraction = 1.0
    conversion: Fraction = 1.0
    biomass: Fraction = 0.0

    def faults(self, at: tuple[str | int, ...]) -> list[FieldError]:
        # Each method needs its own factor; a zero there is almost always a forgotten cell.
        needed = {"combustion": ("ncv", "ef"), "process": ("ef",),
                  "mass_balance": ("carbon_content",)}[self.method]
        method = {"combustion": Msg("Combustion"), "process": Msg("Process emissions"),
                  "mass_balance": Msg("Mass balance")}[self.method]
        out = [_fault((*at, name), Msg("must be positive for the method: {method}",
                                       method=method))
               for name in needed if getattr(self, name) <= 0]
        if self.activity < 0 and self.method != "mass_balance":
            out.append(_fault((*at, "activity"), Msg("only a mass-balance output is negative")))
        return out


class UseIn(InputModel):
    source: Key  # a purchased precursor's key, or a production process's key
    mass: NonNegative  # t consumed over the period, losses and scrap included


class ProcessIn(InputModel):
    """A production process and the good it makes (template sheet D_Processes)."""

    key: Key
    name: Name  # the product's name, as the importer sees it
    cn: CnCode
    route: Text = ""
    activity_level: Annotated[float, Field(gt=0, allow_inf_nan=False)]  # t (kWh: electricity)
    # Directly attributed emissions, t CO2e. Left out: the installation's source streams,
    # which only a single process may take whole.
    direct: Finite | None = None
    electricity_mwh: NonNegative = 0.0
    electricity_ef: NonNegative = 0.0  # t CO2/MWh
    electricity_ef_source: Text = ""
    heat_imported: NonNegative = 0.0  # t CO2e of measurable heat
    heat_exported: NonNegative = 0.0
    waste_gas_imported: NonNegative = 0.0
    waste_gas_exported: NonNegative = 0.0
    electricity_produced: NonNegative = 0.0  # t CO2e of electricity made from its fuels
    uses: list[UseIn] = Field(default_factory=list, max_length=50)


class PrecursorIn(InputModel):
    """A precursor bought in, with its supplier's values (template sheet E_PurchPrec)."""

    key: Key
    name: Name
    cn: CnCode
    country: Country
    see_direct: NonNegative
    # Given, or left out to be electricity (MWh/t) times its factor, as template V2 does.
    see_indirect: NonNegative | None = None
    electricity_mwh_per_t: NonNegative = 0.0
    electricity_ef: NonNegative = 0.0
    default: bool = False  # the values are the Commission's default values

    @field_validator("country", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class CarbonPriceIn(InputModel):
    """A carbon price due in the country of origin on a good (Regulation 2023/956 Art. 9)."""

    cn: CnCode
    instrument: Literal["ETS", "carbon tax", "levy", "fee", "other"]
    legal_reference: Annotated[str, Field(min_length=1, max_length=500)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    price_per_t: NonNegative  # per t CO2e, in the currency
    covered_t_per_t: NonNegative  # t CO2e per t of good that the price applies to
    rebate_t_per_t: NonNegative = 0.0  # of those, rebated or freely allocated
    fx_to_eur: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0  # yearly average

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("rebate_t_per_t")
    @classmethod
    def _rebate(cls, value: float, info: ValidationInfo) -> float:
        covered = info.data.get("covered_t_per_t")
        if covered is not None and value > covered:
            raise PydanticCustomError("rebate", "the rebate cannot cover more than the "
                                      "emissions the price covers")
        return value


class InstallationDoc(InputModel):
    """One installation for one reporting period, as its operator keeps it."""

    name: Name
    name_en: Annotated[str, Field(max_length=200)] = ""
    country: Country
    city: Annotated[str, Field(max_length=200)] = ""
    address: Text = ""
    unlocode: Annotated[str, Field(pattern=r"^([A-Z]{2} ?[A-Z2-9]{3})?$")] = ""
    economic_activity: Text = ""
    latitude: Annotated[float | None, Field(ge=-90, le=90)] = None
    longitude: Annotated[float | None, Field(ge=-180, le=180)] = None
    period_start: date
    period_end: date
    streams: list[SourceStreamIn] = Field(default_factory=list, max_length=100)
    processes: list[ProcessIn] = Field(min_length=1, max_length=50)
    precursors: list[PrecursorIn] = Field(default_factory=list, max_length=50)
    carbon_prices: list[CarbonPriceIn] = Field(default_factory=list, max_length=50)

    @field_validator("country", "unlocode", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    def faults(self) -> list[FieldError]:
        """What the fields cannot tell one at a time: keys, references, the period. Checked
        by the service rather than a model validator, which pydantic would report at the
        document instead of at the field's own path."""
        out = [f for i, s in enumerate(self.streams) for f in s.faults(("streams", i))]
        if self.period_end < self.period_start:
            out.append(_fault(("period_end",),
                              Msg("the reporting period ends before it starts")))
        seen: dict[str, str] = {}
        keyed = [("processes", i, p.key) for i, p in enumerate(self.processes)] + [
            ("precursors", i, p.key) for i, p in enumerate(self.precursors)]
        for kind, i, key in keyed:
            if key in seen:
                out.append(_fault((kind, i, "key"), Msg("{key} is already the key of another "
                                                        "process or precursor", key=key)))
            else:
                seen[key] = f"{kind}.{i}"
        processes = {p.key for p in self.processes}
        precursors = {p.key for p in self.precursors}
        for i, p in enumerate(self.processes):
            for j, use in enumerate(p.uses):
                if use.source not in processes | precursors:
                    out.append(_fault(("processes", i, "uses", j, "source"),
                                      Msg("no process or precursor {key}", key=use.source)))
            if p.direct is None and (len(self.processes) > 1 or not self.streams):
                out.append(_fault(("processes", i, "direct"),
                                  Msg("give the emissions attributed to this process (only a "
                                      "single process takes the source streams' total)")))
        goods = {clean_cn(p.cn) for p in self.processes}
        for i, price in enumerate(self.carbon_prices):
            if clean_cn(price.cn) not in goods:
                out.append(_fault(("carbon_prices", i, "cn"),
                                  Msg("is not the CN code of a good the installation makes")))
        return out


class InstallationIn(InstallationDoc):
    org_id: Annotated[str, Field(min_length=26, max_length=26)]


class InstallationOut(InstallationDoc):
    id: str
    org_id: str
    created_at: datetime
    updated_at: datetime


class InstallationSummary(BaseModel):
    id: str
    org_id: str
    name: str
    country: str
    period_start: date
    period_end: date
    goods: list[str]  # CN codes
    updated_at: datetime


class DefaultOut(BaseModel):
    """A row of the Commission's default values, and its total for the chosen year."""

    table: str  # the act that publishes it
    country: str  # the country table the row came from (UNKNOWN: Annex IV)
    cn: str
    description: str
    route: str
    direct: float | None
    indirect: float | None
    total: float
    year: int
    markup: float  # the year's mark-up as printed, rounded to a whole percent (0.1: 10 %)
    with_markup: float  # the total with the year's mark-up, as printed


class WarningOut(BaseModel):
    code: Literal["not_cbam_good", "simple_good_estimated", "estimates_over_limit",
                  "no_default", "attributed_exceeds_streams", "other"]
    message: str  # in English
    share: float | None = None  # the share of estimates, for estimates_over_limit


class GoodOut(BaseModel):
    process: str
    name: str
    cn: str
    category: str | None
    route: str
    activity_level: float
    attributed_direct: float  # t CO2e, purchased precursors included
    attributed_indirect: float
    see_direct: float  # t CO2e per t
    see_indirect: float
    see_total: float
    see_counted: float  # what certificates are due on: direct only for Annex II goods
    # What is set against the default value: the definitive period's basis (direct only for
    # Annex II goods), whatever period the installation reported.
    see_compared: float
    embedded_electricity: float  # MWh per t
    direct_only: bool
    default_share: float
    carbon_price_due_eur_per_t: float
    default: DefaultOut | None
    # The default value with the year's mark-up less the counted value: positive when the
    # installation's actual emissions save certificates against the default.
    saving_per_t: float | None
    warnings: list[WarningOut]


class ResultsOut(BaseModel):
    installation_id: str
    name: str
    country: str
    period_start: date
    period_end: date
    definitive: bool  # the period reaches into 2026, when only Annex II goods' direct count
    year: int  # whose mark-up the default values carry
    streams_total: float  # t CO2e from the source streams
    goods: list[GoodOut]
    warnings: list[WarningOut]  # of the installation as a whole


class CommunicationGoodOut(BaseModel):
    values: dict[str, Any]  # the Summary_Communication row, by its column header
    category: str | None
    checks: list[str]  # inconsistencies found in the row, in English
    default: DefaultOut | None


class CommunicationOut(BaseModel):
    installation: dict[str, Any]
    period_start: date | None
    period_end: date | None
    country: str | None
    goods: list[CommunicationGoodOut]

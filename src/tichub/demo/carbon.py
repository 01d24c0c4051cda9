"""Demo carbon footprints: the operator imports the starter factor library; the demo company
models an electric motor (with its stator as a reusable sub-assembly), computes its
footprint, and has it certified by the demo certification body, whose queue also holds a
steel plate awaiting review; the certified motor and the plate are shared over PACT. Every
step goes through the carbon use cases.

Material factors: no government publishes open cradle-to-gate factors for steel or copper,
so the demo company keeps its own, labelled for what they are: the EU's CBAM default values
for Chinese steel and aluminium (IR (EU) 2025/2621, conservative by design), and a copper
wire supplier's declared footprint made up for the demo.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.carbon import cbam_service, pact_service, service
from tichub.carbon import certification_service as certification
from tichub.carbon.cbam_schemas import InstallationIn
from tichub.carbon.schemas import (
    CHECKS,
    CheckIn,
    ChecklistIn,
    ComputeIn,
    DecisionIn,
    FactorIn,
    ModelIn,
)
from tichub.core.config import get_settings
from tichub.core.ids import today as ids_today
from tichub.core.ids import utcnow
from tichub.demo.acting import acting
from tichub.registry.models import Institution

STARTER = Path(__file__).resolve().parents[1] / "carbon" / "data" / "factors.csv"
COMPANY_EMAIL = "company@demo.tichub.cn"
CB_EMAIL = "cb@demo.tichub.cn"
OPERATOR_EMAIL = "operator@demo.tichub.cn"
CBAM_SOURCE = ("CBAM default value for China, Implementing Regulation (EU) 2025/2621 Annex I, "
               "CN {cn}: {what}; direct emissions, t CO2e per t. A deliberately conservative "
               "stand-in until the mill's own footprint arrives.")

COMPANY_FACTORS = [
    FactorIn.model_validate(dict(
        key="demo.steel.hot_rolled.cbam_default_cn", name_zh="热轧钢板（CBAM 默认值替代）",
             name_en="Hot-rolled steel (CBAM default value as stand-in)", unit="kg",
             gases=[{"gas": "CO2e", "category": "fossil", "amount": 3.187}],
             basis="AR5", region="CN", year=2026,
             source=CBAM_SOURCE.format(cn="7208", what="flat-rolled, hot-rolled, 600 mm or wider"),
             uncertainty={"kind": "lognormal", "gsd": 1.3})),
    FactorIn.model_validate(dict(
        key="demo.aluminium.unwrought.cbam_default_cn", name_zh="原铝（CBAM 默认值替代）",
             name_en="Unwrought aluminium (CBAM default value as stand-in)", unit="kg",
             gases=[{"gas": "CO2e", "category": "fossil", "amount": 3.0}],
             basis="AR5", region="CN", year=2026,
             source=CBAM_SOURCE.format(cn="7601", what="unwrought aluminium"),
             uncertainty={"kind": "lognormal", "gsd": 1.3})),
    FactorIn.model_validate(dict(
        key="demo.copper_wire.supplier", name_zh="漆包铜线（供应商声明，演示）",
             name_en="Enamelled copper wire (supplier's declaration, demo)", unit="kg",
             gases=[{"gas": "CO2e", "category": "fossil", "amount": 4.1}],
             basis="AR6", region="CN", year=2025,
             source="Demo only: an invented supplier's declared footprint, as it would arrive "
                    "over PACT. Not a real figure.",
             uncertainty={"kind": "pedigree", "pedigree": [2, 3, 2, 1, 2]})),
]


def _stator(org_id: str) -> dict[str, Any]:
    return {
        "org_id": org_id, "name": "YE3-132M 定子组件", "product": "YE3-132M 定子",
        "category": "motor", "declared_unit": "piece", "mass_kg": 24.0,
        "boundary": "cradle_to_gate", "standard": "GB/T 24067-2024",
        "cut_off": "质量和排放均低于 1 % 的输入（绝缘漆、标签）未计入。",
        "processes": [{
            "key": "stator", "name": "冲片与绕线", "stage": "production",
            "output_amount": 1, "output_unit": "piece", "inputs": [
                {"name": "电工钢片", "amount": 19.5, "unit": "kg", "kind": "material",
                 "factor": "demo.steel.hot_rolled.cbam_default_cn"},
                {"name": "漆包铜线", "amount": 5.2, "unit": "kg",
                 "kind": "material", "factor": "demo.copper_wire.supplier"},
                {"name": "冲片与绕线用电", "amount": 14, "unit": "kWh",
                 "kind": "energy", "factor": "cn.electricity.2023.east_grid", "primary": True,
                 "uncertainty": {"kind": "lognormal", "gsd": 1.05}}]}]}


def _motor(org_id: str, stator_id: str) -> dict[str, Any]:
    return {
        "org_id": org_id, "name": "YE3-132M-4 三相异步电动机（7.5 kW）",
        "product": "YE3-132M-4 电动机，7.5 kW，IE3", "category": "motor", "cn_code": "850152",
        "declared_unit": "piece", "mass_kg": 68.0, "boundary": "cradle_to_gate",
        "standard": "GB/T 24067-2024", "geography": "CN",
        "period_start": "2025-01-01", "period_end": "2025-12-31",
        "functional_unit": "出厂时的一台 7.5 kW IE3 三相异步电动机",
        "cut_off": "质量和排放均低于 1 % 的输入（绝缘漆、标签）未计入。",
        "reference": "assembly",
        "processes": [
            {"key": "housing", "name": "机座与端盖", "stage": "raw_materials",
             "output_amount": 1, "output_unit": "piece", "inputs": [
                 {"name": "机座用钢", "amount": 28, "unit": "kg", "kind": "material",
                  "factor": "demo.steel.hot_rolled.cbam_default_cn"},
                 {"name": "转子铸铝", "amount": 3.6, "unit": "kg",
                  "kind": "material", "factor": "demo.aluminium.unwrought.cbam_default_cn"}]},
            {"key": "assembly", "name": "机加工、装配与试验", "stage": "production",
             "output_amount": 1, "output_unit": "piece", "inputs": [
                 {"name": "定子组件", "amount": 1, "unit": "piece", "kind": "material",
                  "model": stator_id},
                 {"name": "机座与端盖", "amount": 1, "unit": "piece", "kind": "material",
                  "process": "housing"},
                 {"name": "机加工、装配与试验用电", "amount": 22, "unit": "kWh",
                  "kind": "energy", "factor": "cn.electricity.2023.east_grid", "primary": True,
                  "uncertainty": {"kind": "lognormal", "gsd": 1.05}},
                 {"name": "叉车柴油", "amount": 0.4, "unit": "kg", "kind": "energy",
                  "factor": "ipcc2006.combustion.gas_diesel_oil.per_kg", "primary": True},
                 {"name": "钢材进厂运输", "amount": 25.0, "unit": "t*km",
                  "kind": "transport", "factor": "uk.desnz.2025.freight.hgv_diesel.tkm"}]}]}


def _plate(org_id: str) -> dict[str, Any]:
    return {
        "org_id": org_id, "name": "Q235B 热轧钢板（外购钢卷加工）",
        "product": "Q235B 热轧钢板，10 mm",
        "category": "steel", "cn_code": "7208", "declared_amount": 1, "declared_unit": "t",
        "mass_kg": 1000.0, "standard": "ISO 14067:2018", "reference": "cutting",
        "period_start": "2025-01-01", "period_end": "2025-12-31",
        "processes": [{"key": "cutting", "name": "开卷、矫平与剪切", "stage": "production",
                       "output_amount": 1, "output_unit": "t", "inputs": [
                           {"name": "热轧钢卷", "amount": 1.02, "unit": "t", "kind": "material",
                            "factor": "demo.steel.hot_rolled.cbam_default_cn"},
                           {"name": "生产线用电", "amount": 35, "unit": "kWh",
                            "kind": "energy", "factor": "cn.electricity.2023.east_grid",
                            "primary": True}]}]}


def cbam_installation(org_id: str, year: int) -> dict[str, Any]:
    """The plate line as a CBAM installation, for its exports of steel plate to the EU: last
    year's reporting period, its natural gas, its electricity, and the purchased coil with
    the mill's declared values (made up for the demo: the form comes filled in)."""
    return {
        "org_id": org_id, "name": "示范电机公司钢板加工线", "name_en":
            "Demo Motor Co. steel plate line", "country": "CN", "city": "上海",
        "unlocode": "CNSHA", "economic_activity": "钢板开卷、矫平与剪切",
        "period_start": f"{year}-01-01", "period_end": f"{year}-12-31",
        # 150 t of natural gas × 48 GJ/t × 56.1 t CO2/TJ (IPCC 2006 defaults) = 403.9 t CO2
        "streams": [{"name": "天然气（矫平加热）", "method": "combustion", "activity": 150,
                     "ncv": 48, "ef": 56.1}],
        "precursors": [{"key": "PP1", "name": "热轧钢卷（外购，钢厂声明值）", "cn": "7208 38 00",
                        "country": "CN", "see_direct": 2.05, "electricity_mwh_per_t": 0.12,
                        "electricity_ef": 0.5306}],
        "processes": [{"key": "P1", "name": "Q235B 热轧钢板", "cn": "7208 51 20",
                       "route": "", "activity_level": 20_000, "electricity_mwh": 700,
                       "electricity_ef": 0.5306,
                       "electricity_ef_source": "全国电网平均排放因子 2023（生态环境部）",
                       "uses": [{"source": "PP1", "mass": 20_400}]}]}


def seed_carbon(db: Session, log: Any) -> int:
    """Builds the demo's carbon data; returns how many footprint studies it made."""
    operator, company, cb = (acting(db, e) for e in (OPERATOR_EMAIL, COMPANY_EMAIL, CB_EMAIL))
    if operator is None or company is None:
        return 0
    op, _ = operator
    service.import_factors(db, op, STARTER.name, STARTER.read_bytes(), None)
    firm, org_id = company
    service.save_factors(db, firm, [(None, f) for f in COMPANY_FACTORS], org_id)
    stator = service.create_model(db, firm, ModelIn.model_validate(_stator(org_id)))
    motor = service.create_model(db, firm, ModelIn.model_validate(_motor(org_id, stator.id)))
    plate = service.create_model(db, firm, ModelIn.model_validate(_plate(org_id)))
    study = service.compute_study(db, firm, motor.id, ComputeIn(
        title="YE3-132M-4 电动机碳足迹 2026", iterations=2000, seed=7))
    queued = service.compute_study(db, firm, plate.id, ComputeIn(
        title="Q235B 热轧钢板碳足迹", iterations=1000, seed=7))
    cbam_service.create_installation(db, firm, InstallationIn.model_validate(
        cbam_installation(org_id, utcnow().year - 1)))
    if cb is None:
        return 2
    reviewer, cb_org = cb
    inst = db.scalar(select(Institution.id).where(Institution.org_id == cb_org))
    if inst is None:
        return 2
    certification.submit(db, firm, study.id, inst)
    certification.save_checklist(db, reviewer, study.id, ChecklistIn(items={
        c: CheckIn(verdict="not_applicable" if c == "allocation" else "conforms",
                   note="单一产出，无需分配 (one output)" if c == "allocation" else "已核查")
        for c in CHECKS}))
    today = ids_today()
    certification.decide(db, reviewer, log, study.id, DecisionIn(
        decision="certify", valid_from=today, valid_until=today + timedelta(days=3 * 365),
        note="演示：核查通过 (demo: verified)"))
    certification.submit(db, firm, queued.id, inst)
    # Shared over PACT, for the customers' systems the company will allow on /carbon/pact:
    # two footprints, so that a customer's system asking one per page is given a next page.
    domain = urlsplit(get_settings().public_url).hostname or "tichub"
    pact_service.share_study(db, firm, study.id, True, domain)
    pact_service.share_study(db, firm, queued.id, True, domain)
    return 2

"""Demo marketplace: the demo lab lists services from its accredited scope, shares two
instruments and offers an expert; the operator runs a voucher programme; the demo company
holds a voucher, has one order in testing (part paid by the voucher) and one request
waiting for quotes. All through the marketplace's use cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tichub.core.ids import today as ids_today
from tichub.demo.acting import acting
from tichub.market import consulting, orders, service
from tichub.market.schemas import (
    ActionIn,
    ApplicationDecisionIn,
    ApplicationIn,
    BookingIn,
    ConsultationIn,
    ExpertIn,
    InstrumentIn,
    ListingIn,
    ProgrammeIn,
    RequestIn,
)
from tichub.registry.models import Institution, Qualification, QualificationStatus, ScopeLine


def seed_market(db: Session) -> int:
    """Builds the demo marketplace; returns how many orders it made."""
    lab = acting(db, "lab@demo.tichub.cn")
    company = acting(db, "company@demo.tichub.cn")
    operator = acting(db, "operator@demo.tichub.cn")
    if lab is None or company is None or operator is None:
        return 0
    (lp, lab_org), (cp, company_org), (op, operator_org) = lab, company, operator
    inst = db.scalar(select(Institution).where(Institution.org_id == lab_org))
    if inst is None:
        return 0
    today = ids_today()
    valid = [q for q in inst.qualifications
             if q.effective_status(today) is QualificationStatus.valid
             and q.kind.value in ("cma", "cnas")]
    # Services, and the orders below, come from the lab's own scope lines, so that a product
    # is always ordered against standards written for it.
    rows = db.execute(
        select(ScopeLine.standard, ScopeLine.product).join(
            Qualification, Qualification.id == ScopeLine.qualification_id)
        .where(Qualification.id.in_([q.id for q in valid])).order_by(ScopeLine.line_no)
        .limit(200)).all()
    product_of: dict[str, str] = {}
    for std, product in rows:
        if product:
            product_of.setdefault(std, product)
    # The demo company makes batteries and storage systems: their standards first.
    standards = sorted(product_of, key=lambda s: not any(w in product_of[s]
                                                         for w in ("电池", "储能")))[:3]
    listings = [orders.add_listing(db, lp, ListingIn(
        org_id=lab_org, institution_id=inst.id, title=f"{product_of[s]}：{s} 检测（演示）",
        standards=[s], price_fen=price, turnaround_days=days))
        for s, price, days in zip(standards, (280_000, 450_000, 160_000), (5, 10, 3),
                                  strict=False)]
    icp = service.add_instrument(db, lp, InstrumentIn(
        org_id=lab_org, name="电感耦合等离子体质谱仪（演示）", kind="ICP-MS", maker="Agilent",
        model="7900", location=inst.address, district=inst.district, hourly_rate_fen=60_000,
        daily_rate_fen=400_000, calibration_due=today + timedelta(days=200),
        quota_hours_per_month=40, enterprise_share_pct=30))
    service.add_instrument(db, lp, InstrumentIn(
        org_id=lab_org, name="高低温湿热试验箱（演示）", kind="环境试验箱",
        location=inst.address, district=inst.district, hourly_rate_fen=15_000,
        calibration_due=today + timedelta(days=90), auto_approve=False))
    start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=1, minute=0, second=0,
                                                            microsecond=0)
    service.book(db, cp, icp.id, BookingIn(org_id=company_org, starts_at=start,
                                           ends_at=start + timedelta(hours=3),
                                           purpose="电解液金属杂质（演示）"))
    consulting.add_expert(db, lp, ExpertIn(
        org_id=lab_org, name="张明（演示）", title="技术负责人",
        fields=["锂电池安全", "储能系统"], committees=["SAC/TC 294"], languages=["zh", "en"],
        fee_fen_per_hour=80_000))
    expert = consulting.list_experts(db)[0]
    consulting.request(db, cp, expert.id, ConsultationIn(
        org_id=company_org, topic="储能产品出口欧盟的检测与认证路径（演示）",
        preferred_times="工作日上午"))
    programme = service.create_programme(db, op, ProgrammeIn(
        org_id=operator_org, code="SH-CX-2026", name="科技创新券（演示）",
        budget_fen=50_000_000, max_share_pct=50, valid_from=date(today.year, 1, 1),
        valid_until=date(today.year + 1, 12, 31), notice_days=0))
    listed = service.apply_as_provider(db, lp, programme.id, lab_org)
    service.review_provider(db, op, listed.id, approve=True)
    application = service.apply_for_voucher(db, cp, programme.id, ApplicationIn(
        org_id=company_org, requested_fen=300_000, district="pudong", sector="新能源",
        purpose=f"{product_of[standards[0]] if standards else '产品'}检测（演示）"))
    voucher_id = service.decide_application(db, op, application.id, ApplicationDecisionIn(
        approve=True)).voucher_id
    made = 0
    if listings:
        [order] = orders.create_request(db, cp, RequestIn(
            org_id=company_org, product=f"{product_of[standards[0]]}（演示）",
            standards=listings[0].standards,
            target_markets=["CN", "EU"], quantity=2, institution_ids=[inst.id]))
        orders.act(db, lp, order.id, ActionIn(action="quote", amount_fen=560_000))
        orders.act(db, cp, order.id, ActionIn(action="accept", voucher_id=voucher_id,
                                              voucher_fen=200_000))
        for step in ("receive_sample", "start_testing"):
            orders.act(db, lp, order.id, ActionIn(action=step))
        orders.create_request(db, cp, RequestIn(
            org_id=company_org, product=f"{product_of[standards[len(listings) - 1]]}（演示）",
            standards=listings[-1].standards,
            quantity=1, institution_ids=[inst.id]))
        made = 2
    return made

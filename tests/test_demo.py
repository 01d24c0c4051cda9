"""The demo data set: deterministic, realistic in shape, and usable at once."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from tichub.demo import seed as demo
from tichub.registry import credit_code
from tichub.registry.districts import BY_SLUG
from tichub.registry.models import Institution, Qualification, ScopeLine
from tichub.registry.standards import parse


def _content(db) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    rows = db.execute(select(Institution.id, Institution.name_zh, Institution.credit_code,
                             Institution.district)).all()
    lines = db.execute(select(ScopeLine.id, ScopeLine.standard, ScopeLine.parameter)
                       .order_by(ScopeLine.id)).all()
    return sorted(map(tuple, rows)) + [tuple(map(str, r)) for r in lines]


def test_the_standards_file_is_real_and_large_enough() -> None:
    standards = demo.load_standards()
    numbers = [s.number for s in standards]
    assert len(set(numbers)) == len(numbers) >= 300
    for s in standards:
        parse(s.number)  # every number is well formed
        assert len(s.parameters_zh) == len(s.parameters_en) >= 1
    sectors = Counter(s.sector for s in standards)
    assert set(sectors) >= {"vehicles", "chips", "batteries", "electrical", "construction",
                            "instruments", "medical", "food", "materials"}
    for known in ("GB 4943.1-2022", "GB 31241-2022", "IEC 62133-2:2017", "GB/T 36276-2023"):
        assert known in numbers


def test_same_seed_same_data(sessionmaker_, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with sessionmaker_() as db:
        counts = demo.seed(db, scale=0.1, seed=11)
        first = _content(db)
    assert counts["institutions"] == 30 and counts["scope lines"] > 100

    from tichub.core.db import make_engine, make_sessionmaker
    from tichub.core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'again.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        demo.seed(db, scale=0.1, seed=11)
        assert _content(db) == first
    engine.dispose()


def test_demo_data_is_valid_and_spread(sessionmaker_) -> None:  # type: ignore[no-untyped-def]
    with sessionmaker_() as db:
        demo.seed(db, scale=0.3, seed=2027)
        insts = db.scalars(select(Institution)).all()
        for inst in insts:
            assert credit_code.validate(inst.credit_code) == inst.credit_code
            assert inst.credit_code[2:8] == BY_SLUG[inst.district].code
        assert len({i.district for i in insts}) >= 12
        assert {str(q) for q in db.scalars(select(Qualification.status).distinct())} >= {
            "valid", "suspended"}
        n_standards = db.scalar(select(func.count(func.distinct(ScopeLine.std_key))))
        assert n_standards >= 100


def test_demo_users_sign_in_and_find_labs(client, app) -> None:  # type: ignore[no-untyped-def]
    with app.state.sessionmaker() as db:
        demo.seed(db, scale=0.1, seed=2027)
    from helpers import sign_in

    for email, *_ in demo.DEMO_USERS:
        client.cookies.clear()
        sign_in(client, email, demo.DEMO_PASSWORD)
        assert client.get("/api/me").json()["email"] == email
    body = client.get("/api/registry/search", params={"q": "检测"}).json()
    assert body["total"] > 0


def test_demo_reports_verify(client, app) -> None:  # type: ignore[no-untyped-def]
    from tichub.demo.reports import number, seed_reports
    from tichub.reports.bundle import check

    with app.state.sessionmaker() as db:
        demo.seed(db, scale=0.3, seed=2027)
        size = seed_reports(db, app.state.log, count=20)
    assert size == 23  # 20 reports, a withdrawal, a replacement and an amendment

    def verdict(n: int) -> dict:  # type: ignore[type-arg]
        return client.get("/api/reports/verify", params={"number": number(n)}).json()

    assert (verdict(1)["status"], verdict(1)["integrity"]) == ("valid", "verified")
    assert verdict(3)["status"] == "withdrawn"
    assert (verdict(5)["status"], verdict(5)["replacement"]) == ("amended", number(21))
    record_id = verdict(1)["history"][0]["id"]
    bundle = client.get(f"/api/reports/records/{record_id}/bundle").json()
    assert check(bundle, app.state.log.verifier.encode()).number == number(1)
    page = client.get(f"/verify?number={number(1)}").text
    assert "DEMO-2026-00001" in page
    # The demo lab's directory page says how to reach it.
    lab_page = client.get(f"/institutions/{verdict(1)['history'][0]['institution_id']}").text
    assert "021-5080 1234" in lab_page and "mailto:service@demo.tichub.cn" in lab_page


def test_demo_marketplace(client, app) -> None:  # type: ignore[no-untyped-def]
    from helpers import sign_in
    from tichub.demo.market import seed_market
    from tichub.market.models import Order, Voucher

    with app.state.sessionmaker() as db:
        demo.seed(db, scale=0.3, seed=2027)
        assert seed_market(db) == 2
        statuses = sorted(o.status.value for o in db.query(Order))
        [voucher] = db.query(Voucher).all()
        # Each product is ordered against a standard the lab's scope lists for that product.
        ordered = [(o.product.removesuffix("（演示）"), o.standards) for o in db.query(Order)]
        for product, standards in ordered:
            assert db.scalar(select(func.count()).select_from(ScopeLine).where(
                ScopeLine.product == product, ScopeLine.standard.in_(standards))), product
    assert any("电池" in p or "储能" in p for p, _ in ordered)
    assert statuses == ["submitted", "testing"]
    assert voucher.balance_fen == 100_000  # 3,000 yuan less 2,000 paid for the order
    sign_in(client, "company@demo.tichub.cn", demo.DEMO_PASSWORD)
    assert ordered[0][0] in client.get("/market/orders").text
    assert client.get("/market").status_code == 200


def test_demo_carbon_footprint_certified_and_queued(client, app) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from helpers import sign_in
    from tichub.carbon.models import Study
    from tichub.demo.carbon import seed_carbon

    with app.state.sessionmaker() as db:
        demo.seed(db, scale=0.3, seed=2027)
        assert seed_carbon(db, app.state.log) == 2
        studies = {s.status.value: s for s in db.query(Study)}
    assert set(studies) == {"certified", "submitted"}
    motor = studies["certified"]
    # By hand, from the factors the demo cites (kg CO2e per motor):
    stator = 19.5 * 3.187 + 5.2 * 4.1 + 14 * 0.5500  # steel, copper wire, power
    housing = 28 * 3.187 + 3.6 * 3.0  # steel, aluminium
    assembly = 22 * 0.5500 + 0.4 * 3.1863 + 25 * 0.10163  # power, diesel, haulage (t*km)
    assert motor.total == pytest.approx(stator + housing + assembly, rel=1e-12)
    assert motor.certificate_number and motor.uncertainty["iterations"] == 2000
    assert motor.shared and motor.pact_id
    # Two footprints shared, so that a customer's system asking one a page is given a next.
    plate = studies["submitted"]
    assert plate.shared and plate.pact_id and plate.pact_id != motor.pact_id
    from tichub.carbon import pact_service
    from tichub.demo.acting import acting

    with app.state.sessionmaker() as db:
        firm, org_id = acting(db, "company@demo.tichub.cn")  # type: ignore[misc]
        row, secret = pact_service.create_client(db, firm, org_id, "客户系统")
        client_id = row.client_id
    pact = "https://testserver/pact"
    token = client.post(f"{pact}/auth/token", auth=(client_id, secret),
                        data={"grant_type": "client_credentials"}).json()["access_token"]
    page = client.get(f"{pact}/3/footprints?limit=1",
                      headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200 and len(page.json()["data"]) == 1
    assert 'rel="next"' in page.headers["link"]
    sign_in(client, "cb@demo.tichub.cn", demo.DEMO_PASSWORD)
    assert "Q235B" in client.get("/carbon/reviews").text
    label = client.get(f"/api/carbon/labels/{motor.certificate_number}.svg")
    assert label.status_code == 200 and b"No. " + motor.certificate_number.encode() in label.content
    # Named in Chinese, as the Chinese demo's people would name them.
    processes = [p["name"] for p in motor.models[motor.model_id]["processes"]]
    assert processes == ["机座与端盖", "机加工、装配与试验"]
    # One CBAM installation with a good, its emissions and a result: no blank form.
    from tichub.carbon.models import CbamInstallation

    with app.state.sessionmaker() as db:
        (inst,) = db.query(CbamInstallation).all()
    client.cookies.clear()
    sign_in(client, "company@demo.tichub.cn", demo.DEMO_PASSWORD)
    assert "示范电机公司钢板加工线" in client.get("/carbon/cbam").text
    page = client.get(f"/carbon/cbam/installations/{inst.id}").text
    assert 'data-testid="good-P1"' in page and "2.1947" in page

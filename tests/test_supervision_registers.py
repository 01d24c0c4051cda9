"""The evidence registers (issue 15): equipment with its calibrations and outages, staff
with roles and employment, standards' editions; the rules other parts call, and who may
see the registers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from helpers import Account, api_token, make_account, make_institution
from tichub.core import errors
from tichub.core.ids import today
from tichub.core.models import OrgKind
from tichub.market import service as market
from tichub.market.equipment import service as equipment
from tichub.market.equipment.schemas import EquipmentIn, EquipmentPatch, EventIn
from tichub.market.models import InstrumentEventKind as K
from tichub.market.schemas import InstrumentIn
from tichub.registry import service as registry
from tichub.registry.editions import service as editions
from tichub.registry.models import StaffRole
from tichub.registry.schemas import SignatoryIn
from tichub.registry.staff import service as staff
from tichub.registry.staff.schemas import StaffIn, StaffPatch
from tichub.supervision.models import Bureau

D = date


def _lab(db: Session, email: str = "lab@a.test", serial: int = 1,
         district: str = "pudong") -> tuple[Account, str]:
    acc = make_account(db, email)
    inst, _ = make_institution(db, acc, name=f"Lab {serial}", serial=serial, district=district)
    return acc, inst


def _instrument(db: Session, acc: Account, inst: str, asset_no: str = "EQ-001",
                **kw: object) -> str:
    return equipment.add_equipment(db, acc.principal(db), EquipmentIn(
        institution_id=inst, asset_no=asset_no, name="ICP-MS 1", kind="ICP-MS",
        **kw)).id  # type: ignore[arg-type]


def _event(db: Session, acc: Account, item: str, kind: K, start: date,
           until: date | None) -> str:
    return equipment.add_event(db, acc.principal(db), item, EventIn(
        kind=kind, valid_from=start, valid_until=until)).id


# --- equipment --------------------------------------------------------------------------------

def test_an_instrument_is_usable_only_inside_a_calibration_and_outside_outages(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    item = _instrument(db, acc, inst, tests_per_day=40)
    assert not equipment.equipment_usable_on(db, item, D(2026, 3, 1))  # nothing recorded
    _event(db, acc, item, K.calibration, D(2026, 1, 1), D(2026, 6, 30))
    assert equipment.equipment_usable_on(db, item, D(2026, 1, 1))  # its first day
    assert equipment.equipment_usable_on(db, item, D(2026, 6, 30))  # expiring that very day
    assert not equipment.equipment_usable_on(db, item, D(2026, 7, 1))  # the day after
    assert not equipment.equipment_usable_on(db, item, D(2025, 12, 31))
    # Away for repair from 1 March, still away: not usable from that day on.
    outage = _event(db, acc, item, K.out_of_service, D(2026, 3, 1), None)
    assert equipment.equipment_usable_on(db, item, D(2026, 2, 28))
    assert not equipment.equipment_usable_on(db, item, D(2026, 3, 1))
    assert not equipment.equipment_usable_on(db, item, D(2026, 5, 1))
    equipment.end_outage(db, acc.principal(db), outage, D(2026, 3, 10))
    assert not equipment.equipment_usable_on(db, item, D(2026, 3, 10))  # its last day out
    assert equipment.equipment_usable_on(db, item, D(2026, 3, 11))
    # A verification covers as a calibration does.
    _event(db, acc, item, K.verification, D(2026, 7, 1), D(2027, 6, 30))
    assert equipment.equipment_usable_on(db, item, D(2026, 7, 1))
    assert not equipment.equipment_usable_on(db, "0" * 26, D(2026, 7, 1))


def test_the_marketplace_dates_follow_the_latest_calibration(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    item = _instrument(db, acc, inst)
    _event(db, acc, item, K.calibration, D(2025, 1, 1), D(2025, 12, 31))
    _event(db, acc, item, K.verification, D(2026, 1, 1), D(2026, 12, 31))
    _event(db, acc, item, K.out_of_service, D(2026, 2, 1), D(2026, 2, 3))  # not a calibration
    row = equipment.get_equipment(db, acc.principal(db), item)
    assert (row.calibrated_on, row.calibration_due) == (D(2026, 1, 1), D(2026, 12, 31))
    # An older certificate recorded late does not move them back.
    _event(db, acc, item, K.calibration, D(2024, 1, 1), D(2024, 12, 31))
    db.refresh(row)
    assert row.calibration_due == D(2026, 12, 31)


def test_a_calibration_needs_its_validity_and_dates_in_order(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    item = _instrument(db, acc, inst)
    with pytest.raises(errors.Problem) as e:
        _event(db, acc, item, K.calibration, D(2026, 1, 1), None)
    assert e.value.errors[0].field == "valid_until"
    with pytest.raises(errors.Problem) as e:
        _event(db, acc, item, K.out_of_service, D(2026, 1, 2), D(2026, 1, 1))
    assert e.value.errors[0].field == "valid_until"
    _event(db, acc, item, K.calibration, D(2026, 1, 1), D(2026, 1, 1))  # one day: fine


def test_asset_numbers_are_unique_in_an_organisation_and_found_by_others(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    item = _instrument(db, acc, inst, asset_no="EQ-007")
    assert equipment.instrument_by_asset(db, acc.org.id, " EQ-007 ").id == item  # type: ignore[union-attr]
    assert equipment.instrument_by_asset(db, acc.org.id, "EQ-008") is None
    other, _ = _lab(db, "b@b.test", 2)
    assert equipment.instrument_by_asset(db, other.org.id, "EQ-007") is None
    with pytest.raises(errors.Problem) as e:
        _instrument(db, acc, inst, asset_no="EQ-007")
    assert e.value.status == 409 and e.value.errors[0].field == "asset_no"


def test_only_shared_instruments_are_in_the_marketplace(client, db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    private = _instrument(db, acc, inst, asset_no="EQ-001")
    listed = [i["id"] for i in client.get("/api/instruments").json()]
    assert private not in listed
    assert client.get(f"/api/instruments/{private}").status_code == 404
    equipment.update_equipment(db, acc.principal(db), private, EquipmentPatch(shared=True))
    assert private in [i["id"] for i in client.get("/api/instruments").json()]
    assert client.get(f"/api/instruments/{private}").status_code == 200
    # Sharing through the marketplace makes a register entry of the lab's institution.
    shared = market.add_instrument(db, acc.principal(db), InstrumentIn(
        org_id=acc.org.id, name="Chamber", kind="climatic chamber"))
    assert shared.shared and shared.institution_id == inst
    assert shared.id in [i.id for i in equipment.list_equipment(db, acc.principal(db), inst)]


def test_capacity_is_one_measure_at_a_time(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    with pytest.raises(ValueError):
        EquipmentIn(institution_id=inst, asset_no="X", name="n", kind="k", tests_per_day=4,
                    hours_per_test=2)
    item = _instrument(db, acc, inst, tests_per_day=10)
    row = equipment.update_equipment(db, acc.principal(db), item,
                                     EquipmentPatch(hours_per_test=2.5))
    assert (row.tests_per_day, row.hours_per_test) == (None, 2.5)


# --- staff ------------------------------------------------------------------------------------

def _person(db: Session, acc: Account, inst: str, no: str | None, name: str,
            roles: list[StaffRole], start: date = D(2020, 1, 1), **kw: object) -> str:
    return staff.add_staff(db, acc.principal(db), StaffIn(
        institution_id=inst, staff_no=no, name=name, roles=roles, employed_from=start,
        **kw)).id  # type: ignore[arg-type]


def test_staff_by_ref_finds_the_number_then_the_exact_name(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    a = _person(db, acc, inst, "ST-003", "王芳", [StaffRole.tester])
    b = _person(db, acc, inst, None, "赵 强", [StaffRole.sampler])
    assert staff.staff_by_ref(db, inst, "ST-003").id == a  # type: ignore[union-attr]
    assert staff.staff_by_ref(db, inst, "王芳").id == a  # type: ignore[union-attr]
    assert staff.staff_by_ref(db, inst, " 赵  强 ").id == b  # type: ignore[union-attr]
    assert staff.staff_by_ref(db, inst, "王") is None
    assert staff.staff_by_ref(db, inst, "") is None
    _, other_inst = _lab(db, "b@b.test", 2)
    assert staff.staff_by_ref(db, other_inst, "ST-003") is None
    with pytest.raises(errors.Problem) as e:
        _person(db, acc, inst, "ST-003", "李四", [])
    assert e.value.status == 409


def test_a_signatory_must_hold_the_role_be_authorised_and_employed(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    _person(db, acc, inst, "ST-001", "张明", [StaffRole.signatory, StaffRole.tester],
            authorised_from=D(2021, 1, 1), authorised_until=D(2026, 6, 30))
    _person(db, acc, inst, "ST-005", "刘洋", [StaffRole.tester])
    left = _person(db, acc, inst, "ST-002", "李静", [StaffRole.signatory])

    def faults(name: str, on: date) -> list[str]:
        return [str(f.message) for f in registry.signatory_faults(db, inst, [name], on)]

    assert faults("张明", D(2021, 1, 1)) == []  # first day of the authorisation
    assert faults("ST-001", D(2026, 6, 30)) == []  # by staff number, its last day
    assert "not an authorised signatory" in faults("张明", D(2026, 7, 1))[0]
    assert "not an authorised signatory" in faults("张明", D(2020, 12, 31))[0]
    assert "not an authorised signatory" in faults("刘洋", D(2024, 1, 1))[0]  # no role
    assert "not an authorised signatory" in faults("陈一", D(2024, 1, 1))[0]  # unknown
    staff.end_employment(db, acc.principal(db), left, D(2025, 3, 31))
    assert faults("李静", D(2025, 3, 31)) == []  # the last day employed
    assert "not employed" in faults("李静", D(2025, 4, 1))[0]


def test_the_signatory_api_is_a_view_of_the_staff_register(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    tester = _person(db, acc, inst, "ST-004", "周杰", [StaffRole.tester], D(2019, 5, 1))
    s = registry.add_signatory(db, acc.principal(db), inst, SignatoryIn(
        name="周杰", authorised_from=D(2022, 1, 1)))
    assert s.id == tester and s.roles == ["tester", "signatory"]  # the same person
    fresh = registry.add_signatory(db, acc.principal(db), inst, SignatoryIn(
        name="吴磊", title="工程师", authorised_from=D(2023, 1, 1)))
    assert fresh.employed_from == D(2023, 1, 1) and fresh.staff_no is None
    listed = [registry.signatory_out(x) for x in
              registry.list_signatories(db, acc.principal(db), inst)]
    assert {x.name for x in listed} == {"周杰", "吴磊"}
    registry.end_signatory(db, acc.principal(db), fresh.id, D(2024, 1, 1))
    assert registry.signatory_faults(db, inst, ["吴磊"], D(2024, 1, 2))
    assert not registry.signatory_faults(db, inst, ["周杰"], D(2024, 1, 2))


def test_staff_periods_are_checked(db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    with pytest.raises(errors.Problem) as e:
        _person(db, acc, inst, "ST-1", "A", [], D(2024, 1, 1), employed_until=D(2023, 1, 1))
    assert e.value.errors[0].field == "employed_until"
    with pytest.raises(errors.Problem) as e:
        _person(db, acc, inst, "ST-2", "B", [StaffRole.signatory], D(2024, 1, 1),
                authorised_from=D(2023, 12, 31))
    assert e.value.errors[0].field == "authorised_from"
    pid = _person(db, acc, inst, "ST-3", "C", [], D(2024, 1, 1))
    with pytest.raises(errors.Problem) as e:
        staff.end_employment(db, acc.principal(db), pid, D(2023, 12, 31))
    assert e.value.errors[0].field == "on"
    row = staff.update_staff(db, acc.principal(db), pid, StaffPatch(
        roles=[StaffRole.sampler, StaffRole.tester], authorised_for=["GB 31241", " GB 31241"]))
    assert row.roles == ["tester", "sampler"] and row.authorised_for == ["GB 31241"]


# --- standard editions ------------------------------------------------------------------------

def test_the_curated_editions_are_loaded_with_their_sources(db) -> None:  # type: ignore[no-untyped-def]
    page = editions.list_editions(db, registry_page(), q="GB 4943.1")[0]
    numbers = {e.number for e in page}
    assert {"GB 4943.1-2011", "GB 4943.1-2022"} <= numbers
    assert all(e.source for e in page)


def registry_page():  # type: ignore[no-untyped-def]
    from tichub.core.pagination import PageParams
    return PageParams(page=1, per_page=100)


@pytest.mark.parametrize(("standard", "day", "expected"), [
    ("GB 4943.1-2011", D(2023, 7, 31), (True, "in_force")),
    ("GB 4943.1-2011", D(2023, 8, 1), (False, "withdrawn")),  # the withdrawal date
    ("GB 4943.1-2022", D(2023, 7, 31), (False, "not_yet")),
    ("GB 4943.1-2022", D(2023, 8, 1), (True, "in_force")),  # the implementation date
    ("GB4943.1—2022", D(2024, 1, 1), (True, "in_force")),  # written another way
    ("GB 4943.1", D(2023, 7, 31), (True, "in_force")),  # no year: some edition in force
    ("GB 38031-2025", D(2026, 6, 30), (False, "not_yet")),
    ("GB 38031-2020", D(2026, 7, 1), (False, "withdrawn")),
    ("GB 9999.9-2020", D(2024, 1, 1), (True, "unknown")),
    ("not a standard", D(2024, 1, 1), (True, "unknown")),
])
def test_edition_in_force(db, standard: str, day: date, expected: tuple[bool, str]) -> None:  # type: ignore[no-untyped-def]
    assert editions.edition_in_force(db, standard, day) == expected


def test_a_standard_without_year_before_any_edition_is_not_yet_in_force(db) -> None:  # type: ignore[no-untyped-def]
    assert editions.edition_in_force(db, "GB 31241", D(2014, 1, 1)) == (False, "not_yet")


EDITIONS_CSV = ("number,title,published_on,implemented_on,withdrawn_on,replaced_by,source\n"
                "GB 1234.5-2020,测试标准,2020-01-01,2020-07-01,2024-01-01,GB 1234.5-2023,"
                "https://example.test/a\n"
                "GB 1234.5-2023,测试标准,2023-01-01,2024-01-01,,,https://example.test/b\n")


def test_editions_import_through_the_api_by_the_operator_only(client, db) -> None:  # type: ignore[no-untyped-def]
    op = make_account(db, "op@op.test", OrgKind.operator)
    lab, _ = _lab(db)
    files = {"file": ("editions.csv", EDITIONS_CSV.encode(), "text/csv")}
    r = client.post("/api/standards/editions/import", files=files, headers={
        "Authorization": f"Bearer {api_token(db, lab, ['registry:write'])}"})
    assert r.status_code == 403
    auth = {"Authorization": f"Bearer {api_token(db, op, ['registry:write'])}"}
    r = client.post("/api/standards/editions/import", files=files, headers=auth)
    assert r.status_code == 201 and r.json()["imported"] == 2
    got = client.get("/api/standards/editions/in-force",
                     params={"standard": "GB 1234.5-2020", "day": "2024-01-01"}).json()
    assert got["reason"] == "withdrawn" and got["edition"]["source"] == "https://example.test/a"
    # One bad row refuses the whole file, naming the row and the field.
    bad = EDITIONS_CSV.replace("2023-01-01,2024-01-01", "2023-01-01,2022-13-01") + \
        "GB 7777-2021,x,,,,,\n"
    r = client.post("/api/standards/editions/import", headers=auth,
                    files={"file": ("e.csv", bad.replace("测试标准", "改过").encode(), "text/csv")})
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {
        (3, "implemented_on"), (4, "source")}
    assert editions.edition_of(db, "GB 1234.5-2020").title == "测试标准"  # type: ignore[union-attr]


def test_an_edition_needs_its_year_and_dates_in_order(db) -> None:  # type: ignore[no-untyped-def]
    _, errs = editions.check_edition(editions.EditionIn(number="GB 1234", source="s"))
    assert [e.field for e in errs] == ["number"]
    _, errs = editions.check_edition(editions.EditionIn(
        number="GB 1234-2020", source="s", published_on=D(2020, 5, 1),
        implemented_on=D(2020, 4, 1)))
    assert [e.field for e in errs] == ["implemented_on"]


# --- who sees the registers -------------------------------------------------------------------

def _bureau(db: Session, email: str, district: str | None) -> Account:
    acc = make_account(db, email, OrgKind.regulator)
    db.add(Bureau(org_id=acc.org.id, district=district))
    db.commit()
    return acc


def test_registers_are_private_to_the_lab_and_its_district_supervisors(client, db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db, district="pudong")
    item = _instrument(db, acc, inst)
    person = _person(db, acc, inst, "ST-001", "张明", [StaffRole.tester])
    other, _ = _lab(db, "b@b.test", 2)
    pudong = _bureau(db, "pd@gov.test", "pudong")
    xuhui = _bureau(db, "xh@gov.test", "xuhui")
    city = _bureau(db, "city@gov.test", None)
    urls = [f"/api/registers/equipment?institution_id={inst}",
            f"/api/registers/equipment/{item}",
            f"/api/registers/staff?institution_id={inst}",
            f"/api/registers/staff/{person}"]

    def status(account: Account | None, scopes: list[str]) -> set[int]:
        headers = ({"Authorization": f"Bearer {api_token(db, account, scopes)}"}
                   if account else {})
        return {client.get(u, headers=headers).status_code for u in urls}

    assert status(acc, ["registry:read"]) == {200}
    assert status(acc, ["market:write"]) == {403}  # a token without the read scope
    assert status(other, ["registry:read"]) == {404}
    assert status(None, []) == {401}
    assert status(pudong, ["supervision:read"]) == {200}
    assert status(xuhui, ["supervision:read"]) == {403}
    assert status(city, ["supervision:read"]) == {200}
    # Supervisors read the registers; only the lab changes them.
    r = client.patch(f"/api/registers/equipment/{item}", json={"name": "x"}, headers={
        "Authorization": f"Bearer {api_token(db, city, ['market:write', 'supervision:read'])}"})
    assert r.status_code == 403
    r = client.patch(f"/api/registers/equipment/{item}", json={"name": "x"}, headers={
        "Authorization": f"Bearer {api_token(db, other, ['market:write'])}"})
    assert r.status_code == 404
    r = client.patch(f"/api/registers/equipment/{item}", json={"shared": True}, headers={
        "Authorization": f"Bearer {api_token(db, acc, ['market:write', 'registry:read'])}"})
    assert r.status_code == 200 and r.json()["shared"] is True


def test_the_api_adds_and_lists_with_pages(client, db) -> None:  # type: ignore[no-untyped-def]
    acc, inst = _lab(db)
    auth = {"Authorization": "Bearer " + api_token(
        db, acc, ["market:write", "registry:write", "registry:read"])}
    for n in range(3):
        r = client.post("/api/registers/equipment", headers=auth, json={
            "institution_id": inst, "asset_no": f"EQ-00{n}", "name": "Balance",
            "kind": "balance", "tests_per_day": 100})
        assert r.status_code == 201, r.text
    r = client.post(f"/api/registers/equipment/{r.json()['id']}/events", headers=auth,
                    json={"kind": "calibration", "valid_from": str(today()),
                          "valid_until": str(today() + timedelta(days=10))})
    assert r.status_code == 201
    page = client.get(f"/api/registers/equipment?institution_id={inst}&per_page=2",
                      headers=auth).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert client.get(f"/api/registers/equipment/{r.json()['instrument_id']}",
                      headers=auth).json()["usable_today"] is True
    r = client.post("/api/registers/staff", headers=auth, json={
        "institution_id": inst, "staff_no": "ST-009", "name": "钱七", "roles": ["sampler"],
        "employed_from": "2024-01-01"})
    assert r.status_code == 201
    r = client.post(f"/api/registers/staff/{r.json()['id']}/end?on=2025-12-31",
                    headers=auth)
    assert r.json()["employed_until"] == "2025-12-31"
    bad = client.post("/api/registers/staff", headers=auth, json={
        "institution_id": inst, "name": "x", "roles": ["boss"], "employed_from": "2024-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("roles")


def test_the_register_pages_follow_the_same_jurisdiction(client, db) -> None:  # type: ignore[no-untyped-def]
    from helpers import sign_in

    acc, inst = _lab(db, district="pudong")
    item = _instrument(db, acc, inst)
    _bureau(db, "pd@gov.test", "pudong")
    _bureau(db, "xh@gov.test", "xuhui")
    make_account(db, "b@b.test")
    pages = [f"/registers/equipment?institution={inst}", f"/registers/equipment/{item}",
             f"/registers/staff?institution={inst}"]
    for email, expected in (("pd@gov.test", 200), ("xh@gov.test", 403), ("b@b.test", 404)):
        client.cookies.clear()
        sign_in(client, email)
        assert {client.get(p).status_code for p in pages} == {expected}, email
    client.cookies.clear()
    sign_in(client, "pd@gov.test")
    page = client.get(f"/registers/equipment/{item}").text
    assert 'data-testid="add-event"' not in page  # supervisors read, they do not write
    client.cookies.clear()
    assert client.get(pages[0], follow_redirects=False).status_code in (303, 401)

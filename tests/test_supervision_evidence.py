"""Evidence registered with a report (issue 15): checked, stored in rows, bound into the
record's commitment, and never public."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from helpers import api_token, make_account, make_institution, sign_in
from tichub.core.models import OrgKind, Role
from tichub.market.models import Instrument
from tichub.registry.models import Staff
from tichub.reports import leaf, service
from tichub.reports.evidence import service as evidence
from tichub.reports.models import EvidenceItem, EvidenceResult, EvidenceSampling, ReportRecord
from tichub.supervision.models import Bureau

BATTERY = ("GB 31241-2022", "锂离子电池", "过充电保护")


def _evidence(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "items": [{"parameter": "过充电保护", "standard": "GB 31241-2022",
                   "instrument": "EQ-001", "tester": "ST-003",
                   "started_at": "2026-01-03T09:00:00+08:00",
                   "ended_at": "2026-01-03T11:30:00+08:00"},
                  {"parameter": "外部短路", "instrument": "EQ-404", "tester": "王五",
                   "started_at": "2026-01-03T13:00:00+08:00",
                   "ended_at": "2026-01-03T13:00:00+08:00"}],
        "samplings": [{"what": "电芯样品A", "sampler": "ST-003", "district": "浦东新区",
                       "latitude": 31.2212, "longitude": 121.5447,
                       "at": "2026-01-02T10:00:00+08:00"}],
        "results": [{"parameter": "开路电压", "value": "3.850", "unit": "V"},
                    {"parameter": "内阻", "value": "0.0250", "unit": "Ω"}],
    }
    body.update(changes)
    return body


def _record(inst: str, number: str = "R-2026-0001", **extra: Any) -> dict[str, Any]:
    body = {"number": number, "kind": "test_report", "institution_id": inst,
            "client": "上海某储能科技有限公司", "product": "锂离子电池组",
            "standards": ["GB 31241-2022"], "sample": "S-1",
            "sample_received_on": "2026-01-02", "tested_from": "2026-01-03",
            "tested_to": "2026-01-04", "issued_on": "2026-01-05", "conclusion": "合格",
            "evidence": _evidence()}
    body.update(extra)
    return body


@pytest.fixture
def lab(client, db):  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1, scope=[BATTERY],
                               district="pudong")
    # The registers' rows, made directly: the registers' services are another branch's.
    db.add(Instrument(org_id=acc.org.id, institution_id=inst, asset_no="EQ-001",
                      name="电池测试系统", kind="电池测试", shared=False))
    db.add(Staff(institution_id=inst, org_id=acc.org.id, staff_no="ST-003", name="赵六",
                 roles=["tester", "sampler"], employed_from=date(2020, 1, 1)))
    db.commit()
    token = api_token(db, acc, ["reports:write", "reports:read"])
    return {"inst": inst, "auth": {"Authorization": f"Bearer {token}"}, "account": acc}


def _post(client, lab, body, path: str = "/api/reports"):  # type: ignore[no-untyped-def]
    return client.post(path, json=body, headers=lab["auth"])


def _faults(r) -> set[tuple[object, str]]:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return {(e.get("row"), e["field"]) for e in r.json()["errors"]}


def test_evidence_is_stored_resolved_and_committed(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    r = _post(client, lab, _record(lab["inst"]))
    assert r.status_code == 201, r.text
    record_id = r.json()["record_id"]
    items = db.scalars(select(EvidenceItem).where(EvidenceItem.record_id == record_id)
                       .order_by(EvidenceItem.seq)).all()
    assert [i.instrument_ref for i in items] == ["EQ-001", "EQ-404"]
    eq1 = db.scalar(select(Instrument.id).where(Instrument.asset_no == "EQ-001"))
    st3 = db.scalar(select(Staff.id).where(Staff.staff_no == "ST-003"))
    # A known reference points at its register row; an unknown one is kept, pointing nowhere.
    assert (items[0].instrument_id, items[0].tester_id) == (eq1, st3)
    assert (items[1].instrument_id, items[1].tester_id) == (None, None)
    assert items[0].started_at.isoformat() == "2026-01-03T01:00:00+00:00"
    sampling = db.scalar(select(EvidenceSampling).where(EvidenceSampling.record_id == record_id))
    assert sampling is not None
    assert (sampling.sampler_id, sampling.district) == (st3, "pudong")
    results = db.scalars(select(EvidenceResult).where(EvidenceResult.record_id == record_id)
                         .order_by(EvidenceResult.seq)).all()
    assert [(x.value_text, x.value) for x in results] == [("3.850", 3.85), ("0.0250", 0.025)]

    record = db.get(ReportRecord, record_id)
    assert record is not None
    committed = record.private["evidence"]
    assert committed["results"][1]["value"] == "0.0250"  # trailing zeros are evidence too
    salt = bytes.fromhex(record.salt)
    assert leaf.opens(record.commitment, record.private, salt)
    # One digit of one result changed: another commitment.
    changed = copy.deepcopy(record.private)
    changed["evidence"]["results"][1]["value"] = "0.025"
    assert leaf.commitment(changed, salt) != record.commitment
    assert evidence.commitment_matches(record)
    # The record still verifies against the log, as every other does.
    assert service.integrate(db, client.app.state.log) == 1
    db.refresh(record)
    fetch = service.tile_fetcher(db)
    assert service.check_record(client.app.state.log, record, service.latest_checkpoint(db),
                                fetch) is None
    out = client.get(f"/api/reports/records/{record_id}/evidence", headers=lab["auth"])
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["commitment_matches"] is True
    assert [r["value"] for r in body["results"]] == ["3.850", "0.0250"]
    assert body["items"][1]["instrument_id"] is None


def test_a_changed_row_no_longer_matches_the_commitment(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    record_id = _post(client, lab, _record(lab["inst"])).json()["record_id"]
    row = db.scalar(select(EvidenceResult).where(EvidenceResult.record_id == record_id,
                                                 EvidenceResult.seq == 0))
    assert row is not None
    row.value_text = "3.85"
    db.commit()
    out = client.get(f"/api/reports/records/{record_id}/evidence", headers=lab["auth"]).json()
    assert out["commitment_matches"] is False


def test_a_record_without_evidence_keeps_its_private_fields(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    body = _record(lab["inst"])
    del body["evidence"]
    record_id = _post(client, lab, body).json()["record_id"]
    record = db.get(ReportRecord, record_id)
    assert record is not None
    assert record.private == {"client": "上海某储能科技有限公司", "sample": "S-1"}
    assert evidence.commitment_matches(record)
    assert not db.scalars(select(EvidenceItem).where(EvidenceItem.record_id == record_id)).all()


@pytest.mark.parametrize(("change", "field"), [
    ({"items": [{**_evidence()["items"][0], "ended_at": "2026-01-03T08:59:59+08:00"}]},
     "evidence.items.0.ended_at"),
    ({"items": [{**_evidence()["items"][0], "started_at": "2026-01-03T09:00:00"}]},
     "evidence.items.0.started_at"),  # no zone
    ({"samplings": [{**_evidence()["samplings"][0], "district": "朝阳区"}]},
     "evidence.samplings.0.district"),
    ({"samplings": [{**_evidence()["samplings"][0], "latitude": 90.5}]},
     "evidence.samplings.0.latitude"),
    ({"samplings": [{**_evidence()["samplings"][0], "longitude": None}]},
     "evidence.samplings.0.longitude"),
    ({"results": [{"parameter": "内阻", "value": "<0.01"}]}, "evidence.results.0.value"),
    ({"results": [{"parameter": "内阻", "value": "1e999"}]}, "evidence.results.0.value"),
    ({"results": [{"parameter": "内阻", "value": "0.1"}] * 501}, "evidence.results"),
    ({"items": [_evidence()["items"][0]] * 201}, "evidence.items"),
])
def test_bad_evidence_is_refused_naming_its_field(client, lab, change, field) -> None:  # type: ignore[no-untyped-def]
    r = _post(client, lab, _record(lab["inst"], evidence=_evidence(**change)))
    assert (None, field) in _faults(r)


def test_bounds_are_inclusive(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    # 200 items, 500 results, an item of no duration, a pole: all accepted.
    ev = _evidence(items=[_evidence()["items"][1]] * 200,
                   results=[{"parameter": "内阻", "value": "-.5"}] * 500,
                   samplings=[{**_evidence()["samplings"][0], "latitude": 90,
                               "longitude": -180}])
    r = _post(client, lab, _record(lab["inst"], evidence=ev))
    assert r.status_code == 201, r.text
    rid = r.json()["record_id"]
    assert len(db.scalars(select(EvidenceItem).where(EvidenceItem.record_id == rid)).all()) \
        == 200


def test_evidence_only_with_an_issued_document(client, lab) -> None:  # type: ignore[no-untyped-def]
    assert _post(client, lab, _record(lab["inst"])).status_code == 201
    r = _post(client, lab, {"number": "R-2026-0001", "kind": "test_report",
                            "event": "withdrawn", "institution_id": lab["inst"],
                            "reason": "x", "evidence": _evidence()})
    assert (None, "evidence") in _faults(r)


def test_batch_names_row_and_path(client, lab) -> None:  # type: ignore[no-untyped-def]
    bad = _evidence(results=[{"parameter": "内阻", "value": "abc"}])
    r = _post(client, lab, {"records": [_record(lab["inst"], "R-1"),
                                        _record(lab["inst"], "R-2", evidence=bad)]},
              "/api/reports/batch")
    assert (2, "evidence.results.0.value") in _faults(r)
    ok = _post(client, lab, {"records": [_record(lab["inst"], "R-1"),
                                         _record(lab["inst"], "R-2")]}, "/api/reports/batch")
    assert ok.status_code == 201, ok.text


def test_evidence_is_never_public(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    r = _post(client, lab, _record(lab["inst"]))
    receipt = r.json()
    record_id = receipt["record_id"]
    service.integrate(db, client.app.state.log)
    secrets = ("EQ-001", "ST-003", "0.0250", "电芯样品A", "121.5447")
    anonymous = client.__class__(client.app)
    public_bodies = [
        json.dumps(receipt, ensure_ascii=False),
        anonymous.get("/api/reports/verify", params={"number": "R-2026-0001"}).text,
        anonymous.get(f"/api/reports/records/{record_id}").text,
        anonymous.get(f"/api/reports/records/{record_id}/bundle").text,
        anonymous.get("/verify", params={"number": "R-2026-0001"}).text,
        anonymous.get("/log/tile/entries/000.p/1").content.decode("utf-8", "replace"),
    ]
    for body in public_bodies:
        for secret in secrets:
            assert secret not in body
    assert anonymous.get(f"/api/reports/records/{record_id}/evidence").status_code == 401
    assert anonymous.get(f"/supervision/records/{record_id}").status_code in (401, 303)


def _regulator(db, email: str, district: str | None):  # type: ignore[no-untyped-def]
    acc = make_account(db, email, kind=OrgKind.regulator, role=Role.viewer)
    db.add(Bureau(org_id=acc.org.id, district=district))
    db.commit()
    return acc


def test_who_reads_evidence(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    record_id = _post(client, lab, _record(lab["inst"])).json()["record_id"]
    url = f"/api/reports/records/{record_id}/evidence"

    def status(acc, scopes: list[str]) -> int:  # type: ignore[no-untyped-def]
        token = api_token(db, acc, scopes)
        return int(client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code)

    other_lab = make_account(db, "other@example.com")
    assert status(other_lab, ["reports:read"]) == 403
    pudong = _regulator(db, "pudong@example.com", "pudong")
    xuhui = _regulator(db, "xuhui@example.com", "xuhui")
    city = _regulator(db, "city@example.com", None)
    assert status(pudong, ["supervision:read"]) == 200
    assert status(pudong, ["reports:read"]) == 403  # a supervisor's token needs its scope
    assert status(xuhui, ["supervision:read"]) == 403
    assert status(city, ["supervision:read"]) == 200
    viewer = make_account(db, "viewer@example.com", role=Role.viewer, org=lab["account"].org)
    assert status(viewer, ["reports:read"]) == 200
    assert client.get("/api/reports/records/01ARZ3NDEKTSV4RRFFQ69G5FAV/evidence",
                      headers=lab["auth"]).status_code == 404

    # The pages: the lab's record page and the supervisor's.
    sign_in(client, "xuhui@example.com")
    assert client.get(f"/supervision/records/{record_id}").status_code == 403
    client.cookies.clear()
    sign_in(client, "pudong@example.com")
    page = client.get(f"/supervision/records/{record_id}")
    assert page.status_code == 200
    assert "EQ-001" in page.text and "0.0250" in page.text
    client.cookies.clear()
    sign_in(client, "lab@example.com")
    own = client.get(f"/reports/records/{record_id}")
    assert own.status_code == 200 and "EQ-404" in own.text


def test_relink_points_old_references_at_rows_added_later(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    record_id = _post(client, lab, _record(lab["inst"])).json()["record_id"]
    assert db.scalar(select(EvidenceItem.instrument_id).where(
        EvidenceItem.record_id == record_id, EvidenceItem.seq == 1)) is None
    db.add(Instrument(org_id=lab["account"].org.id, institution_id=lab["inst"],
                      asset_no="EQ-404", name="短路试验装置", kind="短路", shared=False))
    # Two people named 王五: a name that is not unique names nobody.
    for n in (1, 2):
        db.add(Staff(institution_id=lab["inst"], org_id=lab["account"].org.id,
                     staff_no=f"ST-10{n}", name="王五", roles=["tester"],
                     employed_from=date(2020, 1, 1)))
    db.commit()
    assert evidence.relink(db, lab["inst"]) == 1
    db.commit()
    row = db.scalar(select(EvidenceItem).where(EvidenceItem.record_id == record_id,
                                               EvidenceItem.seq == 1))
    assert row is not None and row.instrument_id is not None and row.tester_id is None
    assert evidence.relink(db, lab["inst"]) == 0  # nothing left to link
    record = db.get(ReportRecord, record_id)
    assert record is not None and evidence.commitment_matches(record)


def test_the_offline_bundle_of_a_record_with_evidence_checks(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    from tichub.reports.bundle import check

    record_id = _post(client, lab, _record(lab["inst"])).json()["record_id"]
    service.integrate(db, client.app.state.log)
    bundle = client.get(f"/api/reports/records/{record_id}/bundle").json()
    assert check(bundle, client.app.state.log.verifier.encode()).number == "R-2026-0001"
    # A withdrawn document's later record carries no evidence, and its page says nothing of it.
    r = _post(client, lab, {"number": "R-2026-0001", "kind": "test_report", "event": "withdrawn",
                            "institution_id": lab["inst"], "reason": "样品信息有误"})
    assert r.status_code == 201, r.text
    sign_in(client, "lab@example.com")
    page = client.get(f"/reports/records/{r.json()['record_id']}")
    assert page.status_code == 200 and 'data-testid="evidence"' not in page.text

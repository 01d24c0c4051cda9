"""Idempotency-Key on report registration (IETF draft-ietf-httpapi-idempotency-key-header):
a retry gets the first answer and registers nothing again; a key reused for another
request is refused; the key's answer and the records are written together or not at all,
and two requests racing with one key register once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from helpers import api_token, make_account, make_institution
from tichub.core.ids import utcnow
from tichub.core.models import AuditEvent
from tichub.reports import idempotency
from tichub.reports.models import IdempotencyKey, ReportRecord

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


@pytest.fixture
def lab(client, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1)
    token = api_token(db, acc, ["reports:write"])
    return {"inst": inst, "auth": {"Authorization": f"Bearer {token}"}, "account": acc}


def _body(lab: dict[str, Any], number: str = "R-1", **extra: Any) -> dict[str, Any]:
    return {"number": number, "kind": "test_report", "institution_id": lab["inst"],
            "issued_on": "2026-01-05", **extra}


def _post(client, lab, body, key: str | bytes | None = KEY,  # type: ignore[no-untyped-def]
          path: str = "/api/reports", auth: dict[str, str] | None = None):
    headers: dict[str, str | bytes] = dict(auth or lab["auth"])
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, json=body, headers=headers)


def _records(db, number: str) -> int:  # type: ignore[no-untyped-def]
    db.rollback()
    return db.scalar(select(func.count()).select_from(ReportRecord)
                     .where(ReportRecord.number == number)) or 0


def test_a_retry_gets_the_same_receipt_and_registers_nothing(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    first = _post(client, lab, _body(lab))
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = _post(client, lab, _body(lab))
    assert again.status_code == 201
    assert again.content == first.content  # the same receipt, byte for byte
    assert again.headers["idempotent-replayed"] == "true"
    assert _records(db, "R-1") == 1
    assert db.scalar(select(func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action == "report.registered")) == 1
    # As an RFC 8941 string, the key is the same key; without one, a retry registers again.
    assert _post(client, lab, _body(lab), key=f'"{KEY}"').content == first.content
    plain = _post(client, lab, _body(lab), key=None)
    assert plain.status_code == 201 and plain.json()["record_id"] != first.json()["record_id"]
    assert "number_registered_before" in plain.json()["flags"]


def test_a_batch_is_replayed_whole(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    body = {"records": [_body(lab, "B-1"), _body(lab, "B-2")]}
    first = _post(client, lab, body, path="/api/reports/batch")
    assert first.status_code == 201 and len(first.json()) == 2
    again = _post(client, lab, body, path="/api/reports/batch")
    assert again.status_code == 201 and again.content == first.content
    assert _records(db, "B-1") == _records(db, "B-2") == 1


def _refused_for_reuse(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Idempotency-Key already used"
    assert r.json()["errors"][0]["field"] == "Idempotency-Key"


def test_the_same_key_with_another_request_is_refused(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    assert _post(client, lab, _body(lab)).status_code == 201
    _refused_for_reuse(_post(client, lab, _body(lab, "R-2")))
    _refused_for_reuse(_post(client, lab, {"records": [_body(lab)]},
                             path="/api/reports/batch"))  # another operation
    assert _records(db, "R-2") == 0
    # The same request once validated is the same request: spacing and order do not count.
    same = client.post("/api/reports", headers={**lab["auth"], "Idempotency-Key": KEY,
                                                "Content-Type": "application/json"},
                       content=b'{ "issued_on": "2026-01-05", "kind": "test_report", '
                               b'"institution_id": "' + lab["inst"].encode() +
                               b'", "number": "R-1" }')
    assert same.status_code == 201 and same.headers["idempotent-replayed"] == "true"


def test_keys_are_each_users_own(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    colleague = make_account(db, "colleague@example.com", org=lab["account"].org)
    other = {"Authorization": f"Bearer {api_token(db, colleague, ['reports:write'])}"}
    first = _post(client, lab, _body(lab))
    second = _post(client, lab, _body(lab), auth=other)
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert _records(db, "R-1") == 2


def test_a_key_expires_after_a_day(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    assert timedelta(hours=24) == idempotency.TTL
    first = _post(client, lab, _body(lab))
    row = db.get(IdempotencyKey, (lab["account"].user.id, KEY))
    assert row is not None and row.expires_at - row.created_at == idempotency.TTL
    db.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    later = _post(client, lab, _body(lab, "R-2"))  # free again, for any request
    assert later.status_code == 201 and later.json()["record_id"] != first.json()["record_id"]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


@pytest.mark.parametrize("key", ["", "a" * 256, "a" * 10_000, "has space", "ключ".encode(),
                                 'say "hi"', "a\\b", '"unterminated'])
def test_a_malformed_key_is_refused_by_name(client, db, lab, key: str | bytes) -> None:  # type: ignore[no-untyped-def]
    r = _post(client, lab, _body(lab), key=key)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"].lower() == "idempotency-key"
    assert _records(db, "R-1") == 0


def test_a_refused_request_keeps_no_answer(client, db, lab) -> None:  # type: ignore[no-untyped-def]
    bad = _post(client, lab, _body(lab, issued_on="2099-01-01"))
    assert bad.status_code == 422
    fixed = _post(client, lab, _body(lab))  # corrected, with the same key
    assert fixed.status_code == 201, fixed.text


def test_the_answer_and_the_records_are_written_together(app, db, lab, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tichub.reports import service

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the server died mid-registration")

    with TestClient(app, raise_server_exceptions=False) as client:
        with monkeypatch.context() as patch:  # fails after the key's row is written
            patch.setattr(service.audit, "record_many", fail)
            assert _post(client, lab, _body(lab)).status_code == 500
        db.rollback()
        assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
        assert _records(db, "R-1") == 0
        retry = _post(client, lab, _body(lab))
        assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers
    assert _records(db, "R-1") == 1


def test_concurrent_requests_with_one_key_register_once(app, db, lab, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Both requests are let through the look-up before either writes: the race the key's
    # primary key settles.
    barrier = threading.Barrier(2, timeout=20)
    claim = idempotency.claim

    def claim_together(*args: Any, **kwargs: Any) -> idempotency.Answer:
        barrier.wait()
        return claim(*args, **kwargs)

    monkeypatch.setattr(idempotency, "claim", claim_together)
    answers: list[Any] = []
    with TestClient(app) as client:
        def send() -> None:
            answers.append(_post(client, lab, _body(lab)))
        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert answers[0].content == answers[1].content
    assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == ["", "true"]
    assert _records(db, "R-1") == 1


def test_the_header_is_described_on_both_operations(app) -> None:  # type: ignore[no-untyped-def]
    spec = app.openapi()
    for path in ("/api/reports", "/api/reports/batch"):
        [header] = [p for p in spec["paths"][path]["post"]["parameters"]
                    if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key" and not header.get("required")
        assert "24 hours" in header["description"]

"""Document numbers have one form (Unicode NFKC, surrounding white space stripped) and hold
no invisible, control or separator character: a look-alike of a registered number is the
same number (flagged as registered before) or refused, and a number typed with full-width
characters finds its document."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text

from helpers import api_token, csrf_from, make_account, make_institution
from tichub.core.migrate import alembic_config
from tichub.reports import numbers, service

NUMBER = "DEMO-2026-00001"
FULL_WIDTH = "ＤＥＭＯ－２０２６－０００１"  # as a Chinese input method types it
TYPED = "ＤＥＭＯ－２０２６－００００１"  # NUMBER, full-width


# --- the function, against the Unicode facts it relies on ---------------------------------

def test_the_unicode_facts_the_rules_rest_on() -> None:
    category = unicodedata.category
    assert [category(c) for c in "\u200b\ufeff\u202e\u2066"] == ["Cf"] * 4  # invisible
    assert [category(c) for c in "\n\x7f\x85"] == ["Cc"] * 3
    assert (category("\u2028"), category("\u2029")) == ("Zl", "Zp")
    assert [category(c) for c in "\u00a0\u3000\u1680\u2007"] == ["Zs"] * 4
    # NFKC folds full-width forms and the no-break and ideographic spaces into ASCII…
    assert unicodedata.normalize("NFKC", FULL_WIDTH) == "DEMO-2026-0001"
    assert unicodedata.normalize("NFKC", "\u00a0\u3000") == "  "
    # …but leaves format characters, controls and line separators where they are.
    for char in "\u200b\ufeff\u202e\x85\u2028\u1680":
        assert unicodedata.normalize("NFKC", f"A{char}B") == f"A{char}B"


@pytest.mark.parametrize(("typed", "form"), [
    (FULL_WIDTH, "DEMO-2026-0001"),
    ("  DEMO-2026-00001  ", NUMBER),
    ("\tDEMO-2026-00001\r\n", NUMBER),
    ("\u00a0DEMO-2026-00001\u3000", NUMBER),
    ("DEMO-2026-00001\x85", NUMBER),  # NEL is white space: stripped at the ends
    ("DEMO 2026", "DEMO 2026"),  # U+0020 inside is kept
    ("DEMO\u00a02026", "DEMO 2026"),  # NFKC makes a no-break space a space
    ("Ｒ－２０２６　１", "R-2026 1"),
    ("№ 12", "No 12"),
    ("检字第2026-001号", "检字第2026-001号"),
])
def test_a_number_is_normalised(typed: str, form: str) -> None:
    assert numbers.normalise(typed) == form
    assert numbers.normalise(form) == form  # a fixed point
    assert numbers.lookup_key(typed) == form


@pytest.mark.parametrize("typed", [
    "\u200bDEMO-2026-00001", "DEMO-2026-00001\ufeff", "\ufeffDEMO-2026-00001",
    "\u202eDEMO-2026-00001", "DEMO\u2066-2026", "DEMO-2026\x85-00001", "DEMO-2026\x7f-00001",
    "DEMO-2026\n-00001", "DEMO\u2028-2026", "DEMO\u2029-2026", "DEMO\u16802026",
    "DEMO\x002026", "DEMO\u00ad2026",
])
def test_invisible_control_and_separator_characters_are_refused(typed: str) -> None:
    with pytest.raises(numbers.NumberError, match=r"must not contain U\+"):
        numbers.normalise(typed)
    # Stored from before the rule, such a number is found by a key without them, itself
    # a number in its one form.
    key = numbers.lookup_key(typed)
    assert numbers.normalise(key) == key


def test_empty_and_overlong_forms_are_refused() -> None:
    for typed in ("", "   ", "\u3000\n"):
        with pytest.raises(numbers.NumberError, match="empty"):
            numbers.normalise(typed)
    # U+FDFA is one character that NFKC makes 18: 6 of them are over the 100 stored.
    assert len(unicodedata.normalize("NFKC", "\ufdfa")) == 18
    with pytest.raises(numbers.NumberError, match="longer than 100"):
        numbers.normalise("\ufdfa" * 6)
    assert numbers.lookup_key("R" + "\u200b" * 5) == "R"


# --- registration, events and look-ups through the API ------------------------------------

@pytest.fixture
def lab(client, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1)
    token = api_token(db, acc, ["reports:write"])
    return {"inst": inst, "auth": {"Authorization": f"Bearer {token}"}, "account": acc}


PDF = b"%PDF-1.7\n% a registered report\n%%EOF\n"


def _body(lab: dict[str, Any], number: str, **extra: Any) -> dict[str, Any]:
    body = {"number": number, "kind": "test_report", "institution_id": lab["inst"],
            "issued_on": "2026-01-05", "pdf_sha256": hashlib.sha256(PDF).hexdigest()}
    body.update(extra)
    return body


def _register(client, lab, number: str, **extra: Any):  # type: ignore[no-untyped-def]
    return client.post("/api/reports", json=_body(lab, number, **extra), headers=lab["auth"])


def _number_refused(r) -> str:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    [error] = r.json()["errors"]
    assert error["field"] == "number", error
    return str(error["message"])


@pytest.mark.parametrize(("variant", "refused"), [
    ("\u200b" + NUMBER, True),  # zero-width space
    (NUMBER + "\ufeff", True),  # BOM
    (TYPED, False),  # full-width forms: NFKC makes them the number
    (NUMBER + "\u00a0", False),  # a no-break space at the end: stripped
    ("\u202e" + NUMBER, True),  # right-to-left override
    ("  " + NUMBER + " ", False),
    (NUMBER + "\n", False),
    ("DEMO-2026-\n00001", True),
    (NUMBER + "\x85", False),  # NEL at the end is white space, stripped…
    ("DEMO-2026-\x8500001", True),  # …inside, a control character, refused like DEL
    ("DEMO-2026-\x7f00001", True),
])
def test_a_look_alike_is_refused_or_flagged_as_the_same_number(  # type: ignore[no-untyped-def]
        client, lab, variant: str, refused: bool) -> None:
    first = _register(client, lab, TYPED if not refused else NUMBER)
    assert first.status_code == 201, first.text
    assert first.json()["number"] == NUMBER
    r = _register(client, lab, variant)
    if refused:
        assert "must not contain U+" in _number_refused(r)
    else:
        assert r.status_code == 201, r.text
        assert r.json()["number"] == NUMBER
        assert "number_registered_before" in r.json()["flags"]


def test_a_batch_names_the_row_of_a_refused_number(client, lab) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/reports/batch", headers=lab["auth"], json={"records": [
        _body(lab, "B-1"), _body(lab, "B-\u200b2"), _body(lab, "B-3")]})
    assert r.status_code == 422, r.text
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(2, "number")]
    # Two look-alikes in one batch are one number: the second is flagged.
    r = client.post("/api/reports/batch", headers=lab["auth"], json={"records": [
        _body(lab, "B-1"), _body(lab, "Ｂ－１ ")]})
    assert r.status_code == 201, r.text
    assert [x["flags"] for x in r.json()] == [[], ["number_registered_before"]]


def test_events_verify_status_and_pdf_find_the_number_typed_full_width(  # type: ignore[no-untyped-def]
        client, db, lab) -> None:
    assert _register(client, lab, NUMBER).status_code == 201
    # An event about the document, its number typed full-width, refers to it.
    r = _register(client, lab, TYPED, event="withdrawn", reason="错误")
    assert r.status_code == 201, r.text
    service.integrate(db, client.app.state.log)
    verdict = client.get("/api/reports/verify", params={"number": TYPED})
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["found"] and verdict.json()["status"] == "withdrawn"
    assert verdict.json()["integrity"] == "verified"
    assert verdict.json()["number"] == NUMBER
    status = client.get("/api/reports/status", params={"number": f" {NUMBER}\u3000"})
    assert status.status_code == 200 and status.json()["latest"][0]["event"] == "withdrawn"
    page = client.get("/verify", params={"number": TYPED})
    assert page.status_code == 200 and "verdict-unknown" not in page.text
    assert f'value="{NUMBER}"' in page.text
    # A typed number that cannot be one is refused by name, on the API and the page.
    _number_refused(client.get("/api/reports/verify", params={"number": NUMBER + "\u200b1"}))
    _number_refused(client.get("/api/reports/status", params={"number": "\u202e" + NUMBER}))
    bad = client.get("/verify", params={"number": NUMBER + "\u200b1"})
    assert bad.status_code == 422 and 'data-testid="bad-number"' in bad.text
    # The PDF check shows the number the PDF was registered under.
    token = csrf_from(client.get("/verify").text)
    found = client.post("/verify", data={"csrf_token": token},
                        files={"pdf": ("r.pdf", PDF, "application/pdf")})
    assert found.status_code == 200 and NUMBER in found.text


def test_an_issuer_signs_the_number_as_it_will_be_logged(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tichub.cli import app as cli_app
    from tichub.reports import statement
    from tichub.reports.note import Signer

    signer = Signer.generate("lab.example/issuer")
    key = tmp_path / "key"
    key.write_text(signer.encode())
    args = ["issuer", "sign", "--key-file", str(key), "--institution", "I" * 26]
    typed = CliRunner().invoke(cli_app, [*args, "--number", TYPED])
    assert typed.exit_code == 0, typed.output
    assert typed.stdout.strip() == statement.sign_statement(signer, "I" * 26, NUMBER, "issued",
                                                            None)
    refused = CliRunner().invoke(cli_app, [*args, "--number", "\u200b" + NUMBER])
    assert refused.exit_code != 0 and "U+200B" in refused.output


# --- numbers stored before normalisation ---------------------------------------------------

def test_the_upgrade_keys_numbers_stored_as_typed(client, db, lab, database_url) -> None:  # type: ignore[no-untyped-def]
    """Records registered before numbers were normalised keep their number (it is in their
    leaf), and migration 0014 gives each its look-up key: a look-alike registered then is
    found, and flagged, with the real number."""
    from tichub.reports.schemas import RecordIn

    acc = lab["account"]
    for number in (NUMBER, "DEMO-2026-00002"):
        service.register(db, acc.principal(db), client.app.state.log, [RecordIn(
            number=number, kind="test_report", institution_id=lab["inst"],
            issued_on=date(2026, 1, 5))])
    db.close()
    client.app.state.engine.dispose()
    command.downgrade(alembic_config(database_url), "0013")
    engine = client.app.state.engine
    with engine.begin() as conn:  # as the old code stored a look-alike: as typed
        conn.execute(text("UPDATE report_records SET number = :raw WHERE number = :n"),
                     {"raw": "DEMO-2026-\u200b00002 ", "n": "DEMO-2026-00002"})
    command.upgrade(alembic_config(database_url), "head")
    engine.dispose()
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT number, number_key FROM report_records")).all())
    assert keys == {NUMBER: NUMBER, "DEMO-2026-\u200b00002 ": "DEMO-2026-00002"}
    verdict = client.get("/api/reports/verify", params={"number": "DEMO-2026-00002"})
    assert verdict.json()["found"], verdict.text
    again = _register(client, lab, "DEMO-2026-00002")
    assert again.status_code == 201 and again.json()["flags"] == ["number_registered_before"]

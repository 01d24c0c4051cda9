"""The ``tichub`` command line: users, tokens and scope import against a real database."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from helpers import credit_code, make_account, make_institution
from tichub.cli import app as cli_app
from tichub.core.config import get_settings
from tichub.core.models import ApiToken, Membership, Organisation, OrgKind, Role, User
from tichub.registry.models import Institution, ScopeLine

PASSWORD = "a long enough password"
HEADER = "资质编号,标准编号,检测对象,检测项目\n"


@pytest.fixture
def tichub(monkeypatch, database_url) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """Runs ``tichub ARGS...`` against the test's database."""
    monkeypatch.setenv("TICHUB_DATABASE_URL", database_url)
    monkeypatch.delenv("TICHUB_PASSWORD", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


def _lines(text: str) -> list[str]:
    return text.strip().splitlines()


def _one_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    [line] = _lines(result.stderr)
    assert line.startswith("error: ")
    return line


def _create_user(tichub, email: str = "x@example.com", **extra: str):  # type: ignore[no-untyped-def]
    options = {"--org": "Lab A", "--org-kind": "lab", "--role": "admin", "--password": PASSWORD,
               **extra}
    return tichub("user", "create", "--email", email,
                  *[part for pair in options.items() for part in pair])


def _users(db) -> list[str]:  # type: ignore[no-untyped-def]
    db.rollback()  # end the test's read transaction so the command's commits are seen
    return list(db.scalars(select(User.email).order_by(User.email)))


def _orgs(db) -> list[str]:  # type: ignore[no-untyped-def]
    db.rollback()
    return list(db.scalars(select(Organisation.name).order_by(Organisation.name)))


def test_user_create(tichub, db) -> None:  # type: ignore[no-untyped-def]
    result = _create_user(tichub)
    assert result.exit_code == 0, result.output
    [line] = _lines(result.stdout)
    assert "x@example.com" in line and "Lab A" in line
    db.rollback()
    user = db.scalar(select(User).where(User.email == "x@example.com"))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    membership = db.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.role is Role.admin
    assert (membership.org.name, membership.org.kind) == ("Lab A", OrgKind.lab)

    # A second user joins the existing organisation without --org-kind.
    result = tichub("user", "create", "--email", "y@example.com", "--org", "Lab A",
                    "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert _orgs(db) == ["Lab A"]


def test_user_create_refusals(tichub, db) -> None:  # type: ignore[no-untyped-def]
    assert _create_user(tichub).exit_code == 0

    again = _create_user(tichub, "X@example.com")
    assert "email" in _one_error(again)
    assert again.stdout == ""

    short = _create_user(tichub, "y@example.com", **{"--org": "Lab B", "--password": "short"})
    assert "password" in _one_error(short)

    unknown = tichub("user", "create", "--email", "z@example.com", "--org", "Nowhere",
                     "--password", PASSWORD)
    line = _one_error(unknown)
    assert "Nowhere" in line and "--org-kind" in line

    bad_kind = _create_user(tichub, "z@example.com", **{"--org": "Lab C", "--org-kind": "pub"})
    assert "kind" in _one_error(bad_kind)

    # Nothing of the failed attempts was kept, not even the organisation "Lab B".
    assert _users(db) == ["x@example.com"]
    assert _orgs(db) == ["Lab A"]


def _token(tichub, *scopes: str) -> str:  # type: ignore[no-untyped-def]
    args = [part for s in scopes for part in ("--scope", s)]
    result = tichub("token", "create", "--email", "x@example.com", "--org", "Lab A", *args)
    assert result.exit_code == 0, result.output
    [token] = _lines(result.stdout)
    return token


def test_a_token_from_the_command_line_authenticates(tichub, client, db) -> None:  # type: ignore[no-untyped-def]
    assert _create_user(tichub).exit_code == 0
    token = _token(tichub, "registry:read")
    assert token.startswith("tichub_")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "x@example.com"
    assert me.json()["scopes"] == ["registry:read"]
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}x"}).status_code == 401


def test_token_create_refuses_an_unknown_scope_or_user(tichub, db) -> None:  # type: ignore[no-untyped-def]
    assert _create_user(tichub).exit_code == 0
    result = tichub("token", "create", "--email", "x@example.com", "--org", "Lab A",
                    "--scope", "registry:everything")
    line = _one_error(result)
    assert "registry:everything" in line and "scopes" in line
    assert result.stdout == ""

    result = tichub("token", "create", "--email", "nobody@example.com", "--org", "Lab A",
                    "--scope", "registry:read")
    assert "nobody@example.com" in _one_error(result)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_token_revoke(tichub, client, db) -> None:  # type: ignore[no-untyped-def]
    assert _create_user(tichub).exit_code == 0
    token = _token(tichub, "registry:read", "accounts:read")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=auth).status_code == 200
    db.rollback()
    token_id = db.scalar(select(ApiToken.id))

    result = tichub("token", "revoke", token_id)
    assert result.exit_code == 0, result.output
    assert token_id in result.stdout
    assert client.get("/api/me", headers=auth).status_code == 401

    assert "NOSUCHTOKEN" in _one_error(tichub("token", "revoke", "NOSUCHTOKEN"))


def test_registry_import_scope(tichub, db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    acc = make_account(db, "lab@example.com")
    inst, qid = make_institution(db, acc, name="甲检测", serial=1, number="CNAS L0001",
                                 scope=[("GB 31241-2022", "锂离子电池", "过充电保护")])

    def stored() -> list[tuple[str, str, str]]:
        db.rollback()
        return [tuple(r) for r in db.execute(
            select(ScopeLine.standard, ScopeLine.product, ScopeLine.parameter)
            .where(ScopeLine.qualification_id == qid).order_by(ScopeLine.line_no))]

    faulty = tmp_path / "faulty.csv"
    faulty.write_text(HEADER + "CNAS L0001,GB 4943.1-2022,信息技术设备,电气强度\n"
                               "CNAS L0001,GB4943.1—2022,信息技术设备,\n", encoding="utf-8")
    line = _one_error(tichub("registry", "import-scope", inst, str(faulty)))
    assert "row 3" in line and "parameter" in line
    assert stored() == [("GB 31241-2022", "锂离子电池", "过充电保护")]

    good = tmp_path / "scope.csv"
    good.write_text(HEADER + "CNAS L0001,GB4943.1—2022,信息技术设备,电气强度\n"
                             "CNAS L0001,GB 31241-2022,锂离子电池,短路保护\n", encoding="gb18030")
    result = tichub("registry", "import-scope", inst, str(good))
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout) == ["imported 2 scope lines"]
    assert stored() == [("GB 4943.1-2022", "信息技术设备", "电气强度"),
                        ("GB 31241-2022", "锂离子电池", "短路保护")]

    assert "not found" in _one_error(tichub("registry", "import-scope", "NOSUCH", str(good)))


def test_registry_import_institutions_names_rows_and_keeps_what_is_stored(  # type: ignore[no-untyped-def]
    tichub, db, tmp_path
) -> None:
    header = "机构名称,统一社会信用代码,所在区,资质类型,资质编号,有效期至\n"
    first = tmp_path / "first.csv"
    first.write_text(header + f"上海甲检测,{credit_code(1)},嘉定区,cma,230912345678,2030-01-01\n",
                     encoding="utf-8")
    result = tichub("registry", "import-institutions", str(first))
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout) == ["imported 1 institution"]

    def stored() -> list[tuple[str, str, str]]:
        db.rollback()
        return [tuple(r) for r in db.execute(
            select(Institution.name_zh, Institution.credit_code, Institution.district)
            .order_by(Institution.name_zh))]

    before = stored()
    bad_code = credit_code(2)[:-1] + ("0" if credit_code(2)[-1] != "0" else "1")
    faulty = tmp_path / "faulty.csv"
    faulty.write_text(header
                      + f"上海甲检测,{credit_code(1)},嘉定区,,,\n"   # row 2: already registered
                      + f"上海乙检测,{bad_code},徐汇区,,,\n"          # row 3: check character
                      + f"上海丙检测,{credit_code(3)},火星区,,,\n",   # row 4: no such district
                      encoding="utf-8")
    line = _one_error(tichub("registry", "import-institutions", str(faulty)))
    assert "row 2, credit_code" in line and "--report" in line
    assert stored() == before

    report = tmp_path / "errors.csv"
    line = _one_error(tichub("registry", "import-institutions", str(faulty),
                             "--report", str(report)))
    assert str(report) in line
    rows = report.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "row,field,message"
    assert [tuple(r.split(",", 2)[:2]) for r in rows[1:]] == [
        ("2", "credit_code"), ("3", "credit_code"), ("4", "district")]
    assert "火星区" in rows[3]
    assert stored() == before


def test_demo_seed_shows_progress_on_stderr_and_its_result_on_stdout(tichub, db) -> None:  # type: ignore[no-untyped-def]
    result = tichub("demo", "seed", "--scale", "0.02", "--seed", "3", "--progress")
    assert result.exit_code == 0, result.output
    [line] = _lines(result.stdout)
    assert re.fullmatch(r"6 institutions, \d+ qualifications, \d+ scope lines, \d+ users, "
                        r"\d+ bureaus, \d+ register entries, \d+ PT rounds, \d+ orders, "
                        r"\d+ footprint studies, \d+ reports in the log, "
                        r"\d+ planted irregularities, \d+ signals, \d+ applications, "
                        r"\d+ inspections, \d+ complaints, \d+ credit scores",
                        line)
    assert "institutions" in result.stderr and "100%" in result.stderr
    # Every phase has its bar: no silent seconds after the directory.
    for phase in ("supervision bureaus", "evidence registers", "proficiency testing",
                  "marketplace", "carbon footprints", "reports and the log",
                  "irregular evidence in other labs", "fraud signals",
                  "qualification applications", "a double-random inspection", "complaints",
                  "credit-risk tiers"):
        assert phase in result.stderr, result.stderr
    quiet = tichub("demo", "seed", "--if-empty", "--no-progress")
    assert (quiet.exit_code, _lines(quiet.stdout), quiet.stderr) == (
        0, ["demo data already present"], "")
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Institution)) == 6


def test_log_integrate_and_witness_keygen(tichub, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from conftest import LOG_KEY, LOG_ORIGIN
    from tichub.reports import service as reports
    from tichub.reports.note import COSIGNATURE, Signer, Verifier
    from tichub.reports.schemas import RecordIn

    monkeypatch.setenv("TICHUB_LOG_KEY", LOG_KEY)
    monkeypatch.setenv("TICHUB_LOG_ORIGIN", LOG_ORIGIN)
    get_settings.cache_clear()
    acc = make_account(db, "lab@example.com")
    inst, _ = make_institution(db, acc, name="甲检测", serial=1)
    reports.register(db, acc.principal(db), reports.Log(LOG_ORIGIN, Signer.parse(LOG_KEY)), [
        RecordIn(number=f"R-{i}", kind="test_report", institution_id=inst,
                 issued_on=date(2026, 1, 5)) for i in range(3)])
    result = tichub("log", "integrate")
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout) == ["the log holds 3 entries"]
    db.rollback()
    assert reports.count_pending(db) == 0

    made = tichub("witness", "keygen", "samr.example/witness")
    assert made.exit_code == 0, made.output
    private, public = _lines(made.stdout)
    signer = Signer.parse(private.removeprefix("private key (secret): "))
    verifier = Verifier.parse(public.removeprefix("verifier key: "))
    assert signer.verifier() == verifier and verifier.sig_type == COSIGNATURE
    assert "must be non-empty" in _one_error(tichub("witness", "keygen", "has space"))

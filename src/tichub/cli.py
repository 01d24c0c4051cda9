"""The ``tichub`` command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tichub.core.config import get_settings
from tichub.core.errors import Problem

app = typer.Typer(help="TICHub: testing, inspection and certification platform.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for machines.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
registry_app = typer.Typer(help="The directory of institutions.", no_args_is_help=True)
log_app = typer.Typer(help="The transparency log of reports and certificates.",
                      no_args_is_help=True)
witness_app = typer.Typer(help="Witnessing the log: keys and cosignatures.",
                          no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(demo_app, name="demo")
app.add_typer(registry_app, name="registry")
app.add_typer(log_app, name="log")
app.add_typer(witness_app, name="witness")
issuer_app = typer.Typer(help="An issuer's own keys: signing what it registers, and "
                              "monitoring the log for records in its name it did not sign.",
                         no_args_is_help=True)
app.add_typer(issuer_app, name="issuer")


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@contextmanager
def session(report: Path | None = None) -> Iterator[Session]:
    """A database session; a refused use case ends the command with its one-line error,
    after writing every field error to ``report`` (CSV) when one was asked for. A database
    or file failure ends it with one line too, never a traceback."""
    from tichub.core.db import make_engine, make_sessionmaker

    try:
        engine = make_engine(get_settings().database_url)
    except (SQLAlchemyError, OSError) as exc:  # a malformed URL, an unwritable directory
        fail(_failure(exc))
    db = make_sessionmaker(engine)()
    try:
        yield db
    except Problem as exc:
        db.rollback()
        message = str(exc)
        if report is not None and exc.errors:
            try:
                write_error_report(report, exc)
                message += f"; every error is listed in {report}"
            except OSError as os_exc:
                message += f"; could not write {report}: {os_exc.strerror or os_exc}"
        elif len(exc.errors) > 1:
            message += "; --report FILE lists every error"
        fail(message)
    except (SQLAlchemyError, OSError) as exc:
        with suppress(SQLAlchemyError):  # the connection itself may be what failed
            db.rollback()
        fail(_failure(exc))
    finally:
        db.close()
        engine.dispose()


def _failure(exc: SQLAlchemyError | OSError) -> str:
    """One line for a database or file failure."""
    if isinstance(exc, OSError):
        return f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc)
    # The driver's own first line: no SQL, parameters or "Background on this error" link.
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return "database: " + (lines[0] if lines else exc.__class__.__name__)


def write_error_report(path: Path, problem: Problem) -> None:
    """Row-by-row errors as CSV; UTF-8 with a BOM so that Excel shows the Chinese text."""
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["row", "field", "message"])
        for e in problem.errors:
            out.writerow(["" if e.row is None else e.row, e.field, e.message])


ReportOption = Annotated[Path | None, typer.Option(
    "--report", dir_okay=False, writable=True,
    help="if the file is refused, write every row's errors to this CSV file")]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from tichub.core.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("database is up to date")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="the user's e-mail, used to sign in")],
    org: Annotated[str, typer.Option(help="organisation name or id")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin")] = "viewer",
    name: Annotated[str, typer.Option(help="display name")] = "",
    org_kind: Annotated[str | None, typer.Option(
        help="create the organisation with this kind if it does not exist: enterprise, lab, "
             "certification_body, regulator or operator")] = None,
    password: Annotated[str | None, typer.Option(
        help="read from TICHUB_PASSWORD or asked for when left out")] = None,
) -> None:
    """Create a user inside an organisation."""
    import os

    from tichub.core import service

    password = password or os.environ.get("TICHUB_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    with session() as db:
        try:
            organisation = service.find_organisation(db, org)
        except Problem:
            if not org_kind:
                fail(f"no organisation {org!r}; give --org-kind to create it")
            organisation = service.create_organisation(db, name=org, kind=org_kind or "")
        user = service.create_user(db, email=email, password=password, display_name=name,
                                   org=organisation, role=role)
        db.commit()
        typer.echo(f"created user {user.email} ({user.id}) as {role} of {organisation.name}")


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="the user the token acts for")],
    org: Annotated[str, typer.Option(help="organisation name or id the token acts in")],
    scope: Annotated[list[str], typer.Option(help="repeatable: registry:read, registry:write, "
                                                   "accounts:read, accounts:admin")],
    name: Annotated[str, typer.Option(help="a label to recognise the token by")] = "cli",
    days: Annotated[int | None, typer.Option(help="expires after this many days")] = None,
) -> None:
    """Create an API token; it is printed once and only its hash is kept."""
    from sqlalchemy import select

    from tichub.core import service
    from tichub.core.auth import Principal, _principal_for_user
    from tichub.core.ids import utcnow
    from tichub.core.models import User

    with session() as db:
        user = db.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            fail(f"no user {email!r}")
            return
        organisation = service.find_organisation(db, org)
        principal = Principal(**_principal_for_user(user))
        expires = utcnow() + timedelta(days=days) if days else None
        row, plain = service.create_token(db, principal=principal, org_id=organisation.id,
                                          name=name, scopes=scope, expires_at=expires)
        typer.echo(plain)
        typer.echo(f"token {row.id} for {user.email} in {organisation.name}; scopes: "
                   f"{', '.join(row.scopes)}", err=True)


@token_app.command("revoke")
def token_revoke(token_id: str) -> None:
    """Revoke an API token by its id."""
    from tichub.core import service
    from tichub.core.models import ApiToken

    with session() as db:
        row = db.get(ApiToken, token_id)
        if row is None:
            fail(f"no token {token_id}")
            return
        service.revoke_token(db, _operator(), token_id)
        typer.echo(f"revoked token {token_id}")


@demo_app.command("seed")
def demo_seed(
    scale: Annotated[float, typer.Option(
        help="1 = about 300 institutions; 0.1 for a tiny set")] = 1,
    seed: Annotated[int, typer.Option(
        help="random seed; the same seed gives the same data")] = 2027,
    if_empty: Annotated[bool, typer.Option(
        "--if-empty", help="do nothing if the directory already has institutions")] = False,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress",
        help="progress bars on stderr; by default on a terminal and for large scales")] = None,
) -> None:
    """Build the deterministic demo data set."""
    from tichub.core.progress import bars
    from tichub.demo import seed as demo

    with session() as db:
        if if_empty and demo.has_data(db):
            typer.echo("demo data already present")
            return
        from tichub.reports.service import Log

        counts = demo.seed_everything(db, Log.from_settings(get_settings()), scale=scale,
                                      rng_seed=seed, progress=bars(progress))
        typer.echo(", ".join(f"{v} {k}" for k, v in counts.items()))


def _operator() -> Any:
    """The command line acts as the platform operator: it runs with the database's keys."""
    from tichub.core.auth import Principal
    from tichub.core.models import OrgKind, Role

    return Principal(user_id="cli", roles={"cli": Role.admin}, kinds={"cli": OrgKind.operator})


@registry_app.command("import-institutions")
def registry_import_institutions(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    report: ReportOption = None,
) -> None:
    """Register the institutions (and qualifications) listed in a CSV or Excel file."""
    from tichub.registry import institution_import

    with session(report) as db:
        n = institution_import.import_institutions_file(db, _operator(), file.name,
                                                        file.read_bytes())
        typer.echo(f"imported {n} institution{'' if n == 1 else 's'}")


@registry_app.command("import-scope")
def registry_import_scope(
    institution_id: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    report: ReportOption = None,
) -> None:
    """Replace the scopes of the qualifications named in a CSV or Excel file."""
    from tichub.registry import importer

    with session(report) as db:
        n = importer.import_scope_file(db, _operator(), institution_id, file.name,
                                       file.read_bytes())
        typer.echo(f"imported {n} scope line{'' if n == 1 else 's'}")


@app.command("verify")
def verify(
    bundle: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                           help="a bundle saved from /api/reports/records/"
                                                "{id}/bundle")],
    key: Annotated[str | None, typer.Option(
        help="the log's verifier key as the platform publishes it; without it the key in "
             "the bundle is trusted")] = None,
    witness: Annotated[list[str] | None, typer.Option(
        help="a witness's verifier key (repeatable)")] = None,
    quorum: Annotated[int, typer.Option(help="how many witness cosignatures to require")] = 0,
) -> None:
    """Check a report's verification bundle offline: signature, leaf and inclusion proof."""
    import json

    from tichub.reports.bundle import BundleError, check

    try:
        data = json.loads(bundle.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{bundle}: not a readable JSON bundle ({exc})")
    if not isinstance(data, dict):
        fail(f"{bundle}: not a bundle (a JSON object)")
    try:
        checked = check(data, key, witness or [], quorum)
    except BundleError as exc:
        fail(f"{bundle}: does not verify: {exc}")
    trust = "" if key else " (the log key was taken from the bundle: pass --key to pin it)"
    cosigned = f", cosigned by {', '.join(checked.cosigners)}" if checked.cosigners else ""
    typer.echo(f"verified: {checked.number} ({checked.event}) by {checked.issuer} is entry "
               f"{checked.index} of {checked.log} at size {checked.tree_size}{cosigned}{trust}")
    if checked.is_latest is True:
        typer.echo("status: this is the document's latest record")
    elif checked.is_latest is False:
        typer.echo(f"status: SUPERSEDED: the document's latest record is a later "
                   f"'{checked.latest_event}' event")


@app.command("audit")
def audit_log(
    url: Annotated[str | None, typer.Argument(
        help="the platform's address, e.g. https://tichub.example; without it, the "
             "configured database is audited")] = None,
    key: Annotated[str | None, typer.Option(
        help="the log's verifier key (needed with a URL; the database's own otherwise)")] = None,
    state: Annotated[Path | None, typer.Option(
        dir_okay=False, help="a file keeping the last checkpoint verified: the next audit "
                             "proves the log consistent with it")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="also check every tile and entry bundle (and, on the database, "
                       "every stored record) against each other")] = False,
) -> None:
    """Prove the log consistent from checkpoint to checkpoint, and its tiles honest."""
    import httpx

    from tichub.core.progress import bars
    from tichub.reports import audit, service
    from tichub.reports.note import NoteError, Verifier

    previous = audit.State.load(state) if state else None
    findings: list[str] = []
    try:
        if url:
            if not key:
                fail("--key is needed to audit a log over HTTP")
            verifier = Verifier.parse(key)
            with httpx.Client(base_url=url.rstrip("/"), timeout=30) as client, \
                    bars()(0, "checkpoints") as step:
                report = audit.audit(audit.HttpReader(client), verifier, previous, full, step)
        else:
            tlog = service.Log.from_settings(get_settings())
            verifier = Verifier.parse(key) if key else tlog.verifier
            with session() as db, bars()(0, "checkpoints") as step:
                report = audit.audit(service.DatabaseReader(db, tlog), verifier, previous,
                                     full, step)
                if full:
                    findings = list(service.record_faults(db, tlog))
    except (audit.AuditError, NoteError) as exc:
        fail(f"audit stopped: {exc}")
    findings = report.findings + findings
    if findings:
        for finding in findings:
            typer.echo(f"FAILED: {finding}", err=True)
        fail(f"the log failed {len(findings)} check(s); the state file was not advanced")
    if state and report.state:
        report.state.save(state)
    since = f" since size {previous.size}" if previous else ""
    typer.echo(f"consistent: {report.checkpoints} checkpoint(s){since} up to size "
               f"{report.size}" + (", tiles and entries checked" if full else ""))


@witness_app.command("keygen")
def witness_keygen(
    name: Annotated[str, typer.Argument(help="the witness's name, e.g. samr.example/witness")],
) -> None:
    """Make a witness key: the private key (keep it secret) and the verifier key to register
    with POST /api/reports/orgs/{org_id}/witnesses and to give to verifiers."""
    from tichub.reports.note import COSIGNATURE, NoteError, Signer

    try:
        signer = Signer.generate(name, COSIGNATURE)
    except NoteError as exc:
        fail(str(exc))
    typer.echo(f"private key (secret): {signer.encode()}")
    typer.echo(f"verifier key: {signer.verifier().encode()}")


@witness_app.command("cosign")
def witness_cosign(
    url: Annotated[str, typer.Argument(help="the platform's address")],
    log_key: Annotated[str, typer.Option(help="the log's verifier key")],
    state: Annotated[Path, typer.Option(dir_okay=False, help="the witness's state: the last "
                                                             "checkpoint it cosigned")],
    key_file: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="a file holding "
                                           "the witness's private key")],
    token: Annotated[str, typer.Option(envvar="TICHUB_TOKEN", help="an API token with the "
                                       "log:cosign scope (or TICHUB_TOKEN)")],
) -> None:
    """Check the log's latest checkpoint against the last one cosigned, then cosign it."""
    import time

    import httpx

    from tichub.reports import audit, witness
    from tichub.reports.note import NoteError, Signer, Verifier

    try:
        signer = Signer.parse(key_file.read_text().strip())
        verifier = Verifier.parse(log_key)
    except NoteError as exc:
        fail(str(exc))
    with httpx.Client(base_url=url.rstrip("/"), timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        try:
            done = witness.cosign(audit.HttpReader(client), verifier, signer,
                                  audit.State.load(state), int(time.time()))
        except witness.WitnessError as exc:
            fail(f"not cosigned: {exc}")
        r = client.post("/api/reports/log/cosignatures",
                        json={"size": done.checkpoint.size, "cosignature": done.line})
        if r.status_code != 201:
            fail(f"the platform refused the cosignature: HTTP {r.status_code} {r.text[:200]}")
    done.state.save(state)
    typer.echo(f"cosigned size {done.checkpoint.size} of {done.checkpoint.origin}")


@issuer_app.command("keygen")
def issuer_keygen(
    name: Annotated[str, typer.Argument(help="the key's name, e.g. lab.example/issuer")],
) -> None:
    """Make an issuer key: the private key (keep it in the LIMS, secret) and the verifier
    key to register with POST /api/reports/orgs/{org_id}/issuer-keys."""
    from tichub.reports.note import NoteError, Signer

    try:
        signer = Signer.generate(name)
    except NoteError as exc:
        fail(str(exc))
    typer.echo(f"private key (secret): {signer.encode()}")
    typer.echo(f"verifier key: {signer.verifier().encode()}")


@issuer_app.command("sign")
def issuer_sign(
    key_file: Annotated[Path, typer.Option(exists=True, dir_okay=False,
                                           help="a file holding the issuer's private key")],
    institution: Annotated[str, typer.Option(help="the issuing institution's id")],
    number: Annotated[str, typer.Option(help="the document's number")],
    event: Annotated[str, typer.Option(help="issued, amended, withdrawn, …")] = "issued",
    pdf_sha256: Annotated[str | None, typer.Option(help="the PDF's SHA-256, if sent")] = None,
) -> None:
    """Print the signature line to send as the record's ``issuer_signature``."""
    from tichub.reports import numbers, statement
    from tichub.reports.note import NoteError, Signer

    try:
        signer = Signer.parse(key_file.read_text().strip())
    except NoteError as exc:
        fail(str(exc))
    try:  # signed as the registry will log it, else the statement would not match
        number = numbers.normalise(number)
    except numbers.NumberError as exc:
        fail(f"--number {exc}")
    typer.echo(statement.sign_statement(signer, institution, number, event, pdf_sha256))


@issuer_app.command("monitor")
def issuer_monitor(
    url: Annotated[str, typer.Argument(help="the platform's address")],
    log_key: Annotated[str, typer.Option(help="the log's verifier key")],
    institution: Annotated[str, typer.Option(help="the institution to watch (its id)")],
    key: Annotated[list[str], typer.Option(help="the issuer's verifier key (repeat for "
                                                "several)")],
) -> None:
    """Read the whole log and list every record naming the institution as issuer that
    none of its keys signed; exit 1 if there is one."""
    import httpx

    from tichub.reports import audit, monitor
    from tichub.reports.note import NoteError, Verifier

    try:
        log = Verifier.parse(log_key)
        keys = [Verifier.parse(k) for k in key]
    except NoteError as exc:
        fail(str(exc))
    with httpx.Client(base_url=url.rstrip("/"), timeout=60) as client:
        try:
            size, alerts = monitor.scan(audit.HttpReader(client), log, institution, keys)
        except (monitor.MonitorError, audit.AuditError) as exc:
            fail(str(exc))
    for a in alerts:
        typer.echo(f"ALERT entry {a.index}: {a.number} ({a.event}): {a.why}")
    typer.echo(f"read {size} entries: {len(alerts)} record(s) in the institution's name "
               "not signed by its keys")
    if alerts:
        raise typer.Exit(1)


@witness_app.command("serve")
def witness_serve(
    key_file: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="a file holding "
                                           "the witness's private key")],
    log_key: Annotated[list[str], typer.Option(help="a log's verifier key to witness "
                                                    "(repeat for several logs)")],
    state: Annotated[Path, typer.Option(dir_okay=False, help="where the witness keeps the "
                                                             "last checkpoint it cosigned")],
    host: str = "127.0.0.1",
    port: int = 8100,
) -> None:
    """Serve the C2SP tlog-witness protocol (POST /add-checkpoint): logs push their new
    checkpoints with a consistency proof and get the cosignature back."""
    import uvicorn

    from tichub.reports import witness, witness_http
    from tichub.reports.note import COSIGNATURE, NoteError, Signer, Verifier

    try:
        signer = Signer.parse(key_file.read_text().strip())
        logs = {v.name: v for v in (Verifier.parse(k) for k in log_key)}
    except NoteError as exc:
        fail(str(exc))
    if signer.sig_type != COSIGNATURE:
        fail("a witness signs with a cosignature key (type 0x04): `tichub witness keygen`")
    uvicorn.run(witness_http.app(logs, witness.WitnessState(state), signer), host=host,
                port=port, log_level="warning")


@log_app.command("integrate")
def log_integrate() -> None:
    """Move every queued record into the log now and sign a checkpoint."""
    from tichub.reports import service as reports

    settings = get_settings()
    with session() as db:
        size = reports.integrate_all(db, reports.Log.from_settings(settings))
        typer.echo(f"the log holds {size} entries")


if __name__ == "__main__":
    app()


def _add_domain_commands() -> None:
    from tichub.pt.cli import pt_app
    from tichub.supervision.cli import supervision_app
    from tichub.supervision.evidence.cli import evidence_app
    from tichub.supervision.registers.cli import registers_app

    app.add_typer(pt_app, name="pt")
    app.add_typer(supervision_app, name="supervision")
    app.add_typer(registers_app, name="registers")
    app.add_typer(evidence_app, name="evidence")


_add_domain_commands()

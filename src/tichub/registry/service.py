"""Registry use cases: the only code that writes institutions, qualifications and scopes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from tichub.core import audit, errors
from tichub.core.auth import Principal, can, require
from tichub.core.db import PATIENT, Base, table, write_wait
from tichub.core.errors import FieldError
from tichub.core.ids import new_id, utcnow
from tichub.core.messages import Msg
from tichub.core.models import Organisation, OrgKind, Role
from tichub.core.pagination import PageParams
from tichub.registry import credit_code, search, search_index, standards
from tichub.registry.districts import BY_SLUG, find_district
from tichub.registry.models import (
    Institution,
    InstitutionKind,
    Qualification,
    QualificationKind,
    QualificationStatus,
    ScopeLine,
    SearchDoc,
    Staff,
    StaffRole,
    StagedScopeLine,
)
from tichub.registry.schemas import (
    InstitutionIn,
    InstitutionOut,
    InstitutionPatch,
    MatchOut,
    QualificationIn,
    QualificationOut,
    ScopeLineIn,
    SearchHit,
    SearchOut,
    SignatoryIn,
    SignatoryOut,
)

INSTITUTION_ORG_KINDS = {OrgKind.lab, OrgKind.certification_body}


# --- validation shared by the API, the importer and the demo seeder ------------------------

def check_credit_code(value: str, row: int | None = None) -> tuple[str | None, FieldError | None]:
    try:
        return credit_code.validate(value), None
    except credit_code.CreditCodeError as exc:
        # The exception's own message, a Msg: str() would make it plain English.
        return None, FieldError("credit_code", exc.args[0], row)


def check_district(value: str, row: int | None = None) -> tuple[str | None, FieldError | None]:
    found = find_district(value)
    if found is None:
        return None, FieldError(
            "district", Msg("{value} is not one of Shanghai's 16 districts",
                            value=repr(value)), row)
    return found.slug, None


def check_standard(
    value: str, row: int | None = None
) -> tuple[standards.StandardNumber | None, FieldError | None]:
    try:
        return standards.parse(value), None
    except standards.StandardNumberError as exc:
        return None, FieldError("standard", exc.args[0], row)


def check_lengths(
    model: type[Base], values: Mapping[str, Any], row: int | None = None,
    fields: Mapping[str, str] | None = None,
) -> list[FieldError]:
    """Texts longer than their ``String(n)`` column: PostgreSQL refuses them where SQLite
    stores them. ``fields`` names the input field of a column where the two differ."""
    errs = []
    for name, value in values.items():
        column = model.__table__.c.get(name)
        limit = getattr(column.type, "length", None) if column is not None else None
        if isinstance(value, str) and limit and len(value) > limit:
            errs.append(FieldError((fields or {}).get(name, name),
                                   Msg("must have at most {n} characters", n=limit), row))
    return errs


def _raise_if(errs: Sequence[FieldError | None]) -> None:
    found = [e for e in errs if e is not None]
    if found:
        raise errors.Problem(422, "Invalid input", detail="; ".join(
            f"{e.field}: {e.message}" for e in found), errors=found)


# --- reading ------------------------------------------------------------------------------

def sees_private(principal: Principal, inst: Institution) -> bool:
    return can(principal, Role.viewer, org=inst.org_id, scope="registry:read")


def to_out(inst: Institution, principal: Principal) -> InstitutionOut:
    d = BY_SLUG[inst.district]
    return InstitutionOut(
        id=inst.id, org_id=inst.org_id, kind=inst.kind, name_zh=inst.name_zh,
        name_en=inst.name_en, credit_code=inst.credit_code, district=inst.district,
        district_zh=d.zh, district_en=d.en, address=inst.address, latitude=inst.latitude,
        longitude=inst.longitude, industrial_park=inst.industrial_park,
        phone=inst.phone, email=inst.email, website=inst.website,
        specialised=inst.specialised, headquarters=inst.headquarters, published=inst.published,
        revenue_tier=inst.revenue_tier if sees_private(principal, inst) else None,
        qualifications=[qualification_out(q) for q in inst.qualifications],
    )


def qualification_out(q: Qualification) -> QualificationOut:
    out = QualificationOut.model_validate(q)
    out.status = q.effective_status()
    return out


def get_institution(db: Session, principal: Principal, institution_id: str) -> Institution:
    inst = db.get(Institution, institution_id)
    # An unpublished institution is private: to outsiders it does not exist.
    if inst is None or (not inst.published and not sees_private(principal, inst)):
        raise errors.Problem(404, "Not found", detail=Msg("institution not found"))
    return inst


def institutions_of_kind(db: Session, kind: InstitutionKind) -> list[Institution]:
    """Published institutions of one kind (e.g. certification bodies a company may choose)."""
    return list(db.scalars(select(Institution).where(
        Institution.kind == kind, Institution.published.is_(True)).order_by(Institution.name_zh)))


def list_own_institutions(db: Session, principal: Principal) -> list[Institution]:
    orgs = principal.orgs_with(Role.viewer)
    if not orgs:
        return []
    return list(db.scalars(select(Institution).where(Institution.org_id.in_(orgs))
                           .order_by(Institution.name_zh)))


def institution_ids_of(db: Session, org_id: str) -> list[str]:
    """The ids of the organisation's institutions (for other domains: no check, no names)."""
    return list(db.scalars(select(Institution.id).where(Institution.org_id == org_id)
                           .order_by(Institution.id)))


def scope_lines(
    db: Session, principal: Principal, institution_id: str, page: PageParams,
    qualification_id: str | None = None, standard: str | None = None,
) -> tuple[list[ScopeLine], int]:
    get_institution(db, principal, institution_id)
    q = _scope_query(institution_id, qualification_id, standard)
    total = db.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = db.scalars(q.order_by(ScopeLine.qualification_id, ScopeLine.line_no)
                      .offset(page.offset).limit(page.per_page))
    return list(rows), total


def _scope_query(
    institution_id: str, qualification_id: str | None = None, standard: str | None = None
) -> Select[ScopeLine]:
    q = select(ScopeLine).where(ScopeLine.institution_id == institution_id)
    if qualification_id:
        q = q.where(ScopeLine.qualification_id == qualification_id)
    if standard:
        parsed, err = check_standard(standard)
        _raise_if([err])
        assert parsed is not None
        q = q.where(ScopeLine.std_key == parsed.key)
        if parsed.year:
            q = q.where(ScopeLine.std_year == parsed.year)
    return q


# The scope importer's own column names, so an exported scope can be edited and imported.
SCOPE_EXPORT_FIELDS = ("qualification", "standard", "standard_title", "product", "parameter",
                       "product_en", "parameter_en", "method_clause", "limitation")


def scope_export_rows(
    db: Session, principal: Principal, institution_id: str, standard: str | None = None
) -> list[list[str]]:
    inst = get_institution(db, principal, institution_id)
    numbers = {q.id: q.number for q in inst.qualifications}
    lines = db.scalars(_scope_query(institution_id, standard=standard)
                       .order_by(ScopeLine.qualification_id, ScopeLine.line_no))
    return [[numbers[x.qualification_id], x.standard, x.standard_title or "", x.product,
             x.parameter, x.product_en or "", x.parameter_en or "", x.method_clause or "",
             x.limitation or ""] for x in lines]


# --- writing ------------------------------------------------------------------------------

def clean_institution(data: InstitutionIn, row: int | None = None) -> tuple[
        dict[str, Any], list[FieldError]]:
    code, e1 = check_credit_code(data.credit_code, row)
    district, e2 = check_district(data.district, row)
    errs = [e for e in (e1, e2) if e]
    values = data.model_dump()
    values.update(credit_code=code, district=district, name_zh=data.name_zh.strip())
    return values, errs


def create_institution(
    db: Session, principal: Principal, org_id: str, data: InstitutionIn, commit: bool = True
) -> Institution:
    require(principal, Role.editor, org=org_id, scope="registry:write")
    org = db.get(Organisation, org_id)
    if org is None:
        raise errors.not_found(Msg("organisation"))
    if org.kind not in INSTITUTION_ORG_KINDS:
        raise errors.invalid("org_id", Msg(
            "only labs and certification bodies register institutions"))
    values, errs = clean_institution(data)
    _raise_if(errs)
    if db.scalar(select(Institution.id).where(Institution.credit_code == values["credit_code"])):
        raise errors.conflict("credit_code", Msg("an institution with this credit code exists"))
    inst = Institution(org_id=org_id, seq=search_index.next_seq(db), **values)
    db.add(inst)
    db.flush()
    search_index.rebuild(db, inst.id)
    audit.record(db, action="institution.created", object_type="institution", object_id=inst.id,
                 actor_user_id=principal.user_id, org_id=org_id,
                 data={"name_zh": inst.name_zh, "credit_code": inst.credit_code})
    if commit:
        db.commit()
    return inst


def update_institution(
    db: Session, principal: Principal, institution_id: str, patch: InstitutionPatch
) -> Institution:
    inst = get_institution(db, principal, institution_id)
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    changes = patch.model_dump(exclude_unset=True)
    if "district" in changes:
        slug, err = check_district(changes["district"] or "")
        _raise_if([err])
        changes["district"] = slug
    for key, value in changes.items():
        setattr(inst, key, value)
    search_index.rebuild(db, inst.id)
    audit.record(db, action="institution.updated", object_type="institution", object_id=inst.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={k: str(v) for k, v in changes.items()})
    db.commit()
    return inst


def add_qualification(
    db: Session, principal: Principal, institution_id: str, data: QualificationIn,
    commit: bool = True,
) -> Qualification:
    inst = get_institution(db, principal, institution_id)
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    number = " ".join(data.number.split())
    if data.issued_on and data.issued_on > data.valid_until:
        raise errors.invalid("valid_until", Msg("is before the issue date"))
    if db.scalar(select(Qualification.id).where(Qualification.kind == data.kind,
                                                Qualification.number == number)):
        raise errors.conflict("number", Msg("a {kind} qualification {number} exists",
                                            kind=data.kind.value.upper(), number=number))
    q = Qualification(institution_id=inst.id, kind=data.kind, number=number,
                      issued_on=data.issued_on, valid_until=data.valid_until, status=data.status)
    db.add(q)
    db.flush()
    search_index.rebuild(db, inst.id)
    audit.record(db, action="qualification.added", object_type="qualification", object_id=q.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"kind": q.kind.value, "number": number, "status": q.status.value})
    if commit:
        db.commit()
    return q


def set_status_by_regulator(
    db: Session, principal: Principal, qualification: Qualification,
    status: QualificationStatus, decision_no: str,
) -> Qualification:
    """The regulator suspends, withdraws (revokes) or restores a qualification under a
    decision, in the caller's transaction. The caller checks that the principal supervises
    the institution (``supervision.jurisdiction``): no role in the lab is asked for."""
    if not principal.authenticated or (not principal.is_regulator and not principal.is_operator):
        raise errors.forbidden(Msg("only the market regulator's supervisors may do this"))
    before = qualification.status
    qualification.status = status
    search_index.rebuild(db, qualification.institution_id)
    audit.record(db, action="qualification.status_by_regulator", object_type="qualification",
                 object_id=qualification.id, actor_user_id=principal.user_id,
                 org_id=qualification.institution.org_id,
                 data={"before": before.value, "after": status.value,
                       "decision_no": decision_no})
    return qualification


def get_qualification(db: Session, principal: Principal, qualification_id: str) -> Qualification:
    q = db.get(Qualification, qualification_id)
    if q is None:
        raise errors.Problem(404, "Not found", detail=Msg("qualification not found"))
    get_institution(db, principal, q.institution_id)
    return q


def update_qualification(
    db: Session, principal: Principal, qualification_id: str, data: QualificationIn
) -> Qualification:
    q = get_qualification(db, principal, qualification_id)
    inst = q.institution
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    number = " ".join(data.number.split())
    if data.issued_on and data.issued_on > data.valid_until:
        raise errors.invalid("valid_until", Msg("is before the issue date"))
    if db.scalar(select(Qualification.id).where(Qualification.kind == data.kind,
                                                Qualification.number == number,
                                                Qualification.id != q.id)):
        raise errors.conflict("number", Msg("a {kind} qualification {number} exists",
                                            kind=data.kind.value.upper(), number=number))
    before = {"status": q.status.value, "valid_until": q.valid_until.isoformat()}
    q.kind, q.number = data.kind, number
    q.issued_on, q.valid_until, q.status = data.issued_on, data.valid_until, data.status
    search_index.rebuild(db, inst.id)
    audit.record(db, action="qualification.updated", object_type="qualification",
                 object_id=q.id, actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"before": before, "after": {"status": q.status.value,
                                                    "valid_until": q.valid_until.isoformat()}})
    db.commit()
    return q


def scope_row(line: ScopeLineIn, row: int | None = None) -> tuple[dict[str, Any], list[FieldError]]:
    parsed, err = check_standard(line.standard, row)
    errs = [err] if err else []
    if not line.product.strip():
        errs.append(FieldError("product", Msg("must not be empty"), row))
    if not line.parameter.strip():
        errs.append(FieldError("parameter", Msg("must not be empty"), row))
    values: dict[str, Any] = {
        "standard": parsed.display if parsed else line.standard,
        "std_key": parsed.key if parsed else "",
        "std_year": parsed.year if parsed else None,
        "standard_title": (line.standard_title or "").strip() or None,
        "product": line.product.strip(),
        "parameter": line.parameter.strip(),
        "product_en": (line.product_en or "").strip() or None,
        "parameter_en": (line.parameter_en or "").strip() or None,
        "method_clause": (line.method_clause or "").strip() or None,
        "limitation": (line.limitation or "").strip() or None,
    }
    if parsed:  # the normalised number, or its key, may outgrow its column: say so once
        errs += check_lengths(ScopeLine, {k: values[k] for k in ("standard", "std_key")}, row,
                              fields={"std_key": "standard"})[:1]
    return values, errs


def replace_scope(
    db: Session, principal: Principal, qualification_id: str, lines: Sequence[ScopeLineIn],
    commit: bool = True,
) -> int:
    """Sets a qualification's whole scope; all lines are checked before any is written."""
    q = get_qualification(db, principal, qualification_id)
    inst = q.institution
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    cleaned: list[dict[str, Any]] = []
    errs: list[FieldError] = []
    for i, line in enumerate(lines, start=1):
        values, row_errs = scope_row(line, row=i)
        cleaned.append(values)
        errs.extend(row_errs)
    _raise_if(errs)
    db.execute(delete(ScopeLine).where(ScopeLine.qualification_id == q.id))
    db.add_all(ScopeLine(qualification_id=q.id, institution_id=inst.id, line_no=i, **v)
               for i, v in enumerate(cleaned, start=1))
    db.flush()
    search_index.rebuild(db, inst.id)
    audit.record(db, action="scope.replaced", object_type="qualification", object_id=q.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"lines": len(cleaned)})
    if commit:
        db.commit()
    return len(cleaned)


# A chunk of a staged import: well under a second of the SQLite writer on a slow machine.
STAGE_ROWS = 5_000
_STALE_STAGING = timedelta(days=1)  # older staged lines are a crashed import's: removed
_LINE_COLUMNS = ("qualification_id", "institution_id", "doc_key", "line_no", "standard",
                 "std_key", "std_year", "standard_title", "product", "parameter", "product_en",
                 "parameter_en", "method_clause", "limitation")


def _untouched_state(db: Session, inst_id: str, replaced: Sequence[str]) -> list[Any]:
    """What the search documents depend on besides the imported lines: the lines of the
    qualifications the file leaves alone (a replacement gives every line a new id)."""
    return [tuple(r) for r in db.execute(
        select(ScopeLine.qualification_id, func.count(), func.max(ScopeLine.id))
        .where(ScopeLine.institution_id == inst_id,
               ScopeLine.qualification_id.not_in(replaced))
        .group_by(ScopeLine.qualification_id).order_by(ScopeLine.qualification_id))]


def replace_scopes_staged(db: Session, principal: Principal, inst: Institution,
                          cleaned: Mapping[str, Sequence[dict[str, Any]]]) -> int:
    """Replaces the scopes of several qualifications of one institution with lines already
    checked (``scope_row``), all or nothing, without holding the SQLite writer long: the
    search documents are built first, outside any write; the lines are written to the
    staging table in short transactions; one short transaction then swaps them in."""
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    replaced = sorted(cleaned)
    quals = list(db.scalars(select(Qualification).where(Qualification.institution_id == inst.id)))
    keys = search_index.keys_for(inst, quals)
    words: dict[str, list[search_index.LineWords]] = {
        qid: [search_index.LineWords(v["product"], v["parameter"], v["standard_title"],
                                     v["product_en"], v["parameter_en"]) for v in lines]
        for qid, lines in cleaned.items()}
    for qid, *w in db.execute(
            select(ScopeLine.qualification_id, ScopeLine.product, ScopeLine.parameter,
                   ScopeLine.standard_title, ScopeLine.product_en, ScopeLine.parameter_en)
            .where(ScopeLine.institution_id == inst.id,
                   ScopeLine.qualification_id.not_in(replaced))):
        words.setdefault(qid, []).append(search_index.LineWords(w[0] or "", w[1] or "", *w[2:]))
    docs = search_index.docs_for(inst, quals, words)
    seen = (keys, _untouched_state(db, inst.id, replaced))
    db.commit()  # ends the reads: what follows may take a while

    import_id = new_id()
    rows = [{"import_id": import_id, "seq": seq, "line_id": new_id(), "qualification_id": qid,
             "institution_id": inst.id, "doc_key": keys[qid], "line_no": n, **values}
            for seq, (qid, n, values) in enumerate(
                (qid, n, v) for qid in replaced for n, v in enumerate(cleaned[qid], start=1))]
    staging = table(StagedScopeLine)
    # An import is not turned away by a burst of other writes: it waits its turn, chunk
    # after chunk, and others get theirs in between.
    with write_wait(PATIENT):
        try:
            db.execute(delete(staging).where(  # what a crashed import left behind
                StagedScopeLine.created_at < utcnow() - _STALE_STAGING))
            db.commit()
            now = utcnow()
            for start in range(0, len(rows), STAGE_ROWS):
                db.execute(insert(staging), [{**r, "created_at": now}
                                             for r in rows[start:start + STAGE_ROWS]])
                db.commit()
            _publish(db, principal, inst, import_id, replaced, docs, seen, cleaned)
        except BaseException:
            db.rollback()
            db.execute(delete(staging).where(StagedScopeLine.import_id == import_id))
            db.commit()
            raise
    return len(rows)


def _publish(db: Session, principal: Principal, inst: Institution, import_id: str,
             replaced: Sequence[str], docs: Sequence[SearchDoc], seen: Any,
             cleaned: Mapping[str, Sequence[dict[str, Any]]]) -> None:
    """The one short step that makes a staged import visible."""
    lines = table(ScopeLine)
    staged = table(StagedScopeLine)
    db.execute(delete(lines).where(ScopeLine.qualification_id.in_(replaced)))
    db.execute(insert(lines).from_select(
        ["id", *_LINE_COLUMNS],
        select(staged.c.line_id, *(staged.c[c] for c in _LINE_COLUMNS))
        .where(staged.c.import_id == import_id).order_by(staged.c.seq)))
    db.execute(delete(staged).where(staged.c.import_id == import_id))
    quals = list(db.scalars(select(Qualification).where(Qualification.institution_id == inst.id)))
    if seen == (search_index.keys_for(inst, quals), _untouched_state(db, inst.id, replaced)):
        db.execute(delete(SearchDoc).where(SearchDoc.institution_id == inst.id))
        db.add_all(docs)
    else:  # the institution changed meanwhile: build its documents afresh
        search_index.rebuild(db, inst.id)
    audit.record_many(db, [{"action": "scope.replaced", "object_type": "qualification",
                            "object_id": qid, "actor_user_id": principal.user_id,
                            "org_id": inst.org_id, "data": {"lines": len(cleaned[qid])}}
                           for qid in replaced])
    db.commit()


# --- search -------------------------------------------------------------------------------

def build_query(
    *, q: str = "", standard: str = "", product: str = "", parameter: str = "",
    districts: Sequence[str] = (), kinds: Sequence[QualificationKind | str] = (),
    statuses: Sequence[QualificationStatus | str] = (),
) -> search.Query:
    slugs: list[str] = []
    for d in districts:
        if not d:
            continue
        slug, err = check_district(d)
        _raise_if([err])
        assert slug is not None
        slugs.append(slug)
    if standard.strip():
        _, err = check_standard(standard)
        _raise_if([err])
    try:
        kinds_ = [QualificationKind(k) for k in kinds if k]
    except ValueError:
        raise errors.invalid("kind", Msg("must be one of {choices}", choices=", ".join(
            k.value.upper() for k in QualificationKind))) from None
    try:
        statuses_ = [QualificationStatus(s) for s in statuses if s]
    except ValueError:
        raise errors.invalid("status", Msg("is not a qualification status")) from None
    return search.Query(q=q, standard=standard, product=product, parameter=parameter,
                        districts=slugs, kinds=kinds_, statuses=statuses_)


def search_institutions(
    db: Session, principal: Principal, query: search.Query, offset: int, limit: int
) -> tuple[search.Result, list[tuple[search.Row, Institution]]]:
    result = search.run(db, query, offset=offset, limit=limit)
    seqs = [r.seq for r in result.rows]
    found = {i.seq: i for i in db.scalars(select(Institution).where(Institution.seq.in_(seqs)))}
    return result, [(r, found[r.seq]) for r in result.rows]


def search_page(
    db: Session, principal: Principal, query: search.Query, page: PageParams
) -> SearchOut:
    result, hits = search_institutions(db, principal, query, page.offset, page.per_page)
    return SearchOut(
        items=[SearchHit(institution=to_out(inst, principal),
                         match=MatchOut(tier=row.tier, lines=row.lines, valid=row.valid))
               for row, inst in hits],
        total=result.total, page=page.page, per_page=page.per_page, facets=result.facets,
        interpreted=result.interpretation.as_dict(),
    )


# Beyond this a download is refused rather than cut short without saying so.
EXPORT_LIMIT = 50_000
EXPORT_HEADER = ["name_zh", "name_en", "credit_code", "district", "address", "kind",
                 "qualifications", "match_tier", "matching_lines", "valid_match", "url"]


def qualification_label(q: Qualification) -> str:
    """"CMA 230912345678", but "CNAS L1234" and "CBTL-CN-SH0020" as they are."""
    kind = q.kind.value.upper()
    return q.number if q.number.upper().startswith(kind) else f"{kind} {q.number}"


def search_export_rows(
    db: Session, principal: Principal, query: search.Query
) -> list[list[str]]:
    result, hits = search_institutions(db, principal, query, 0, EXPORT_LIMIT)
    if result.total > EXPORT_LIMIT:
        raise errors.Problem(422, "Too many results to export",
                             detail=Msg("the search finds {total} institutions; narrow it to "
                                        "at most {limit} to export them",
                                        total=format(result.total, ","),
                                        limit=format(EXPORT_LIMIT, ",")))
    rows = []
    for row, inst in hits:
        quals = "; ".join(f"{qualification_label(q)} ({q.effective_status().value}"
                          f"{', on commitment' if q.on_commitment else ''})"
                          for q in inst.qualifications)
        rows.append([inst.name_zh, inst.name_en or "", inst.credit_code,
                     BY_SLUG[inst.district].zh, inst.address, inst.kind.value, quals,
                     str(row.tier), str(row.lines), "yes" if row.valid else "no",
                     f"/institutions/{inst.id}"])
    return rows


# --- authorised signatories ----------------------------------------------------------------
# The signatories are people of the staff register holding the signatory role; these use
# cases keep the signatory API of before working on it.

def list_signatories(db: Session, principal: Principal, institution_id: str) -> list[Staff]:
    """Everyone who holds or held the signatory role (public, as CNAS and CMA publish
    them)."""
    get_institution(db, principal, institution_id)
    rows = db.scalars(select(Staff).where(Staff.institution_id == institution_id)
                      .order_by(Staff.name, Staff.authorised_from, Staff.employed_from))
    return [s for s in rows if StaffRole.signatory.value in s.roles]


def signatory_out(s: Staff) -> SignatoryOut:
    return SignatoryOut(id=s.id, name=s.name, title=s.title,
                        authorised_from=s.authorised_from or s.employed_from,
                        authorised_until=_earliest(s.authorised_until, s.employed_until))


def _earliest(a: date | None, b: date | None) -> date | None:
    return min(a, b) if a is not None and b is not None else a or b


def add_signatory(
    db: Session, principal: Principal, institution_id: str, data: SignatoryIn
) -> Staff:
    """Authorises a signatory: the person of that name in the staff register, still
    employed and not yet a signatory, gains the role; one authorised already (open-ended,
    from that day or before) is left as is; otherwise a person is added, employed from the
    first day of the authorisation (the register holds one authorisation per person)."""
    inst = get_institution(db, principal, institution_id)
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    if data.authorised_until and data.authorised_until < data.authorised_from:
        raise errors.invalid("authorised_until", Msg("is before the start of the authorisation"))
    name = " ".join(data.name.split())
    people = list(db.scalars(select(Staff).where(Staff.institution_id == inst.id,
                                                 Staff.name == name)))
    held = next((s for s in people if StaffRole.signatory.value in s.roles
                 and s.employed_until is None and s.authorised_until is None
                 and (s.authorised_from or s.employed_from) <= data.authorised_from), None)
    if held is not None and data.authorised_until is None:
        return held  # authorised already, from that day on: nothing to add
    person = next((s for s in people if StaffRole.signatory.value not in s.roles
                   and s.employed_until is None and s.employed_from <= data.authorised_from),
                  None)
    if person is None:
        person = Staff(institution_id=inst.id, org_id=inst.org_id, name=name, title=data.title,
                       roles=[], authorised_for=[], employed_from=data.authorised_from)
        db.add(person)
    person.roles = [r.value for r in StaffRole
                    if r.value in person.roles or r is StaffRole.signatory]
    person.title = data.title or person.title
    person.authorised_from, person.authorised_until = data.authorised_from, data.authorised_until
    db.flush()
    audit.record(db, action="signatory.added", object_type="staff", object_id=person.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"institution_id": inst.id, "name": person.name})
    db.commit()
    return person


def end_signatory(db: Session, principal: Principal, signatory_id: str, on: date) -> Staff:
    """Ends an authorisation (kept, so reports signed before it still verify)."""
    row = db.get(Staff, signatory_id)
    if row is None or StaffRole.signatory.value not in row.roles:
        raise errors.Problem(404, "Not found", detail=Msg("signatory not found"))
    inst = get_institution(db, principal, row.institution_id)
    require(principal, Role.editor, org=inst.org_id, scope="registry:write")
    if on < (row.authorised_from or row.employed_from):
        raise errors.invalid("on", Msg("is before the authorisation began"))
    row.authorised_until = on
    audit.record(db, action="signatory.ended", object_type="staff", object_id=row.id,
                 actor_user_id=principal.user_id, org_id=inst.org_id,
                 data={"name": row.name, "until": on.isoformat()})
    db.commit()
    return row


# --- for other domains ----------------------------------------------------------------------


def signatory_faults(
    db: Session, institution_id: str, names: Sequence[str], on: date
) -> list[FieldError]:
    """The signatories (by staff number or name) who could not sign for the institution on
    ``on``: in the staff register they must hold the signatory role, be authorised and be
    employed that day."""
    from tichub.registry.staff.service import authorised_on, clean_name, employed_on

    cleaned = [clean_name(n) for n in names]
    rows = list(db.scalars(select(Staff).where(
        Staff.institution_id == institution_id,
        or_(Staff.name.in_(cleaned), Staff.staff_no.in_(cleaned)))))
    faults = []
    for i, name in enumerate(cleaned):
        held = [r for r in rows if name in (r.name, r.staff_no)]
        if any(authorised_on(r, on) for r in held):
            continue
        if held and not any(employed_on(r, on) for r in held):
            faults.append(FieldError(f"signatories.{i}", Msg(
                "{name} was not employed by the issuer on {date}", name=name,
                date=on.isoformat())))
        else:
            faults.append(FieldError(f"signatories.{i}", Msg(
                "{name} was not an authorised signatory of the issuer on {date}",
                name=name, date=on.isoformat())))
    return faults


def accreditation_faults(
    db: Session, institution_id: str, kind: QualificationKind, standards: Sequence[str],
    on: date,
) -> list[FieldError]:
    """Why an accreditation mark of ``kind`` may not stand on a document the institution
    issued on ``on`` for ``standards``: no such qualification valid that day, or a standard
    outside its scope (the same edition when the document names one)."""
    quals = list(db.scalars(select(Qualification).where(
        Qualification.institution_id == institution_id, Qualification.kind == kind)))
    valid = [q for q in quals if q.effective_status(on) is QualificationStatus.valid
             and (q.issued_on is None or q.issued_on <= on)]
    label = kind.value.upper()
    if not valid:
        held = ", ".join(qualification_label(q) for q in quals)
        return [FieldError("marks", Msg(
            "the issuer held no valid {kind} qualification on {date} (held: {held})",
            kind=label, date=on.isoformat(), held=held or "–"))]
    faults = []
    for i, raw in enumerate(standards):
        parsed, err = check_standard(raw)
        if err is not None or parsed is None:
            faults.append(FieldError(f"standards.{i}", err.message if err
                                     else Msg("is not a standard number")))
            continue
        q = select(ScopeLine.id).where(
            ScopeLine.qualification_id.in_([v.id for v in valid]),
            ScopeLine.std_key == parsed.key)
        if parsed.year is not None:
            q = q.where(ScopeLine.std_year == parsed.year)
        if db.scalar(q.limit(1)) is None:
            faults.append(FieldError(f"standards.{i}", Msg(
                "{standard} is outside the issuer's {kind} scope", standard=parsed.display,
                kind=label)))
    return faults


def published_count(db: Session) -> int:
    """How many institutions the public directory lists (the home page's figure)."""
    return int(db.scalar(select(func.count()).select_from(Institution)
                         .where(Institution.published.is_(True))) or 0)


# --- qualification by commitment (告知承诺), for supervision's approval ----------------------
# Supervision decides who may do these (the applying lab's members, the district's bureau);
# the registry only keeps its tables and search documents right. ``actor`` is the user the
# audit log names.

def next_cma_number(db: Session, on: date) -> str:
    """A free CMA number for a new qualification: two digits of the year, Shanghai's
    province code 09, then eight digits (the real scheme's shape)."""
    prefix = f"{on.year % 100:02d}09"
    taken = set(db.scalars(select(Qualification.number).where(
        Qualification.kind == QualificationKind.cma, Qualification.number.like(f"{prefix}%"))))
    n = len(taken) + 1
    while f"{prefix}{n:08d}" in taken:
        n += 1
    return f"{prefix}{n:08d}"


def grant_qualification(
    db: Session, actor: str | None, institution_id: str, *, issued_on: date, valid_until: date,
    lines: Sequence[ScopeLineIn], on_commitment: bool, reason: str,
) -> Qualification:
    """A new CMA qualification with its scope, granted by the bureau (``on_commitment``: at
    once on the institution's signed commitment, to be verified on site)."""
    inst = db.get(Institution, institution_id)
    if inst is None:
        raise errors.not_found(Msg("institution"))
    cleaned = _checked_lines(lines)
    q = Qualification(institution_id=inst.id, kind=QualificationKind.cma,
                      number=next_cma_number(db, issued_on), issued_on=issued_on,
                      valid_until=valid_until, status=QualificationStatus.valid,
                      on_commitment=on_commitment)
    db.add(q)
    db.flush()
    db.add_all(ScopeLine(qualification_id=q.id, institution_id=inst.id, line_no=i, **v)
               for i, v in enumerate(cleaned, start=1))
    db.flush()
    search_index.rebuild(db, inst.id)
    audit.record(db, action="qualification.granted", object_type="qualification",
                 object_id=q.id, actor_user_id=actor, org_id=inst.org_id,
                 data={"number": q.number, "on_commitment": on_commitment, "reason": reason,
                       "lines": len(cleaned), "valid_until": valid_until.isoformat()})
    return q


def _checked_lines(lines: Sequence[ScopeLineIn]) -> list[dict[str, Any]]:
    cleaned, errs = [], []
    for i, line in enumerate(lines, start=1):
        values, row_errs = scope_row(line, row=i)
        cleaned.append(values)
        errs.extend(row_errs)
    _raise_if(errs)
    return cleaned


def add_scope_lines(
    db: Session, actor: str | None, qualification_id: str, lines: Sequence[ScopeLineIn],
    on_commitment: bool, reason: str,
) -> int:
    """Appends lines to a qualification's scope (added parameters). ``on_commitment`` marks
    the qualification as resting on a commitment until the bureau verifies it."""
    q = _qualification(db, qualification_id)
    cleaned = _checked_lines(lines)
    last = db.scalar(select(func.max(ScopeLine.line_no))
                     .where(ScopeLine.qualification_id == q.id)) or 0
    db.add_all(ScopeLine(qualification_id=q.id, institution_id=q.institution_id, line_no=n, **v)
               for n, v in enumerate(cleaned, start=last + 1))
    q.on_commitment = q.on_commitment or on_commitment
    db.flush()
    search_index.rebuild(db, q.institution_id)
    audit.record(db, action="scope.lines_added", object_type="qualification", object_id=q.id,
                 actor_user_id=actor, org_id=q.institution.org_id,
                 data={"lines": len(cleaned), "on_commitment": on_commitment,
                       "reason": reason})
    return len(cleaned)


def renew_qualification(
    db: Session, actor: str | None, qualification_id: str, valid_until: date,
    on_commitment: bool, reason: str,
) -> Qualification:
    """Extends a qualification's validity (renewal), valid again if it had lapsed."""
    q = _qualification(db, qualification_id)
    if q.status in (QualificationStatus.withdrawn, QualificationStatus.suspended):
        raise errors.invalid("qualification_id", Msg(
            "a withdrawn or suspended qualification cannot be renewed"))
    before = q.valid_until
    q.valid_until = max(valid_until, q.valid_until)
    q.status = QualificationStatus.valid
    q.on_commitment = q.on_commitment or on_commitment
    search_index.rebuild(db, q.institution_id)
    audit.record(db, action="qualification.renewed", object_type="qualification",
                 object_id=q.id, actor_user_id=actor, org_id=q.institution.org_id,
                 data={"before": before.isoformat(), "valid_until": q.valid_until.isoformat(),
                       "on_commitment": on_commitment, "reason": reason})
    return q


def change_site(
    db: Session, actor: str | None, qualification_id: str, address: str, on_commitment: bool,
    reason: str,
) -> Qualification:
    """Moves the institution holding a qualification to a new site address."""
    q = _qualification(db, qualification_id)
    inst = q.institution
    errs = check_lengths(Institution, {"address": address})
    _raise_if(errs)
    before = inst.address
    inst.address = address
    q.on_commitment = q.on_commitment or on_commitment
    search_index.rebuild(db, inst.id)
    audit.record(db, action="institution.site_changed", object_type="institution",
                 object_id=inst.id, actor_user_id=actor, org_id=inst.org_id,
                 data={"before": before, "after": address, "qualification_id": q.id,
                       "on_commitment": on_commitment, "reason": reason})
    return q


def confirm_commitment(db: Session, actor: str | None, qualification_id: str,
                       reason: str) -> Qualification:
    """The bureau verified the commitment on site: the qualification stands on its own."""
    q = _qualification(db, qualification_id)
    q.on_commitment = False
    search_index.rebuild(db, q.institution_id)
    audit.record(db, action="qualification.commitment_verified", object_type="qualification",
                 object_id=q.id, actor_user_id=actor, org_id=q.institution.org_id,
                 data={"reason": reason})
    return q


def withdraw_qualification(db: Session, actor: str | None, qualification_id: str,
                           reason: str) -> Qualification:
    """Revokes a qualification (status withdrawn): marks on documents issued from now on are
    refused at registration; earlier documents keep theirs."""
    q = _qualification(db, qualification_id)
    before = q.status
    q.status = QualificationStatus.withdrawn
    search_index.rebuild(db, q.institution_id)
    audit.record(db, action="qualification.withdrawn", object_type="qualification",
                 object_id=q.id, actor_user_id=actor, org_id=q.institution.org_id,
                 data={"before": before.value, "reason": reason})
    return q


def _qualification(db: Session, qualification_id: str) -> Qualification:
    q = db.get(Qualification, qualification_id)
    if q is None:
        raise errors.Problem(404, "Not found", detail=Msg("qualification not found"))
    return q


def mark_on_commitment(db: Session, institution_id: str, kind: QualificationKind,
                       on: date) -> bool:
    """True when every qualification of ``kind`` valid on ``on`` rests on an unverified
    commitment: a mark then stands, but the record says on what. One query on columns, as
    it runs at every registration with a mark."""
    rows = db.execute(select(Qualification.on_commitment).where(
        Qualification.institution_id == institution_id, Qualification.kind == kind,
        Qualification.status == QualificationStatus.valid, Qualification.valid_until >= on,
        (Qualification.issued_on.is_(None)) | (Qualification.issued_on <= on))).all()
    return bool(rows) and all(r.on_commitment for r in rows)

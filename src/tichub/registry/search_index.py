"""Keeps the search documents and the scope lines' keys in step with the registry."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tichub.core.textsearch import document_terms
from tichub.registry.models import Institution, Qualification, ScopeLine, SearchDoc
from tichub.registry.search_key import Key


@dataclass(frozen=True)
class LineWords:
    product: str
    parameter: str
    title: str | None = None
    product_en: str | None = None
    parameter_en: str | None = None


def institution_words(inst: Institution) -> list[str | None]:
    return [inst.name_zh, inst.name_en, inst.industrial_park]


def keys_for(inst: Institution, qualifications: list[Qualification]) -> dict[str | None, int]:
    """Search keys of the names document (None) and of each qualification, in id order."""
    names = Key(seq=inst.seq, district=inst.district, published=inst.published)
    keys: dict[str | None, int] = {None: names.pack()}
    for slot, q in enumerate(sorted(qualifications, key=lambda q: q.id), start=1):
        keys[q.id] = Key(seq=names.seq, district=names.district, published=names.published,
                         slot=slot, kind=str(q.kind), status=str(q.status),
                         valid_until=q.valid_until).pack()
    return keys


def docs_for(
    inst: Institution,
    qualifications: list[Qualification],
    lines_by_qualification: dict[str, list[LineWords]],
) -> list[SearchDoc]:
    """One document for the names, one per qualification with the names and its scope."""
    keys = keys_for(inst, qualifications)
    names = institution_words(inst)
    docs = [SearchDoc(id=keys[None], institution_id=inst.id, qualification_id=None,
                      body=document_terms(names), products="", parameters="")]
    for q in qualifications:
        lines = lines_by_qualification.get(q.id, [])
        products = sorted({w for x in lines for w in (x.product, x.product_en) if w})
        params = sorted({w for x in lines for w in (x.parameter, x.parameter_en) if w})
        titles = sorted({x.title for x in lines if x.title})
        docs.append(SearchDoc(
            id=keys[q.id], institution_id=inst.id, qualification_id=q.id,
            body=document_terms([*names, *products, *params, *titles]),
            products=document_terms(products),
            parameters=document_terms(params),
        ))
    return docs


def next_seq(db: Session) -> int:
    return (db.scalar(select(func.max(Institution.seq))) or 0) + 1


def rebuild(db: Session, institution_id: str) -> None:
    """Rewrites an institution's documents, and its scope lines' keys where they changed."""
    db.flush()
    db.execute(delete(SearchDoc).where(SearchDoc.institution_id == institution_id))
    inst = db.get(Institution, institution_id)
    if inst is None:
        return
    quals = list(db.scalars(select(Qualification)
                            .where(Qualification.institution_id == institution_id)))
    lines: dict[str, list[LineWords]] = defaultdict(list)
    for qid, *words in db.execute(
        select(ScopeLine.qualification_id, ScopeLine.product, ScopeLine.parameter,
               ScopeLine.standard_title, ScopeLine.product_en, ScopeLine.parameter_en)
        .where(ScopeLine.institution_id == institution_id)
    ):
        product, parameter, title, product_en, parameter_en = words
        lines[qid].append(LineWords(product or "", parameter or "", title, product_en,
                                    parameter_en))
    docs = docs_for(inst, quals, lines)
    db.add_all(docs)
    for doc in docs:
        if doc.qualification_id is not None:
            db.execute(update(ScopeLine)
                       .where(ScopeLine.qualification_id == doc.qualification_id,
                              ScopeLine.doc_key != doc.id)
                       .values(doc_key=doc.id))
    db.flush()

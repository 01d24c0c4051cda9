"""Files attached to a lab's answer, an appeal or an inspection's finding
(``supervision.models.StoredFile``): checked the same way wherever they come from, stored in
the database, readable by the uploading organisation and the supervisors of the institution,
never public."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tichub.core import errors
from tichub.core.messages import Msg
from tichub.supervision.models import StoredFile

MAX_FILE = 5 * 1024 * 1024
MAX_FILES = 5
ALLOWED = {"application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
# Control characters (a NUL above all) no database keeps; a file name may carry them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    data: bytes


def _kind(upload: Upload) -> str:
    return upload.content_type.split(";")[0].strip().lower()


def check(uploads: Sequence[Upload], already: int = 0, field: str = "files") -> None:
    """Refuses the lot if there are too many (with the ``already`` kept), or one is empty,
    too large or of a kind we do not keep; the fault names the file's place in the lot."""
    if already + len(uploads) > MAX_FILES:
        raise errors.invalid(field, Msg("takes at most {n}", n=MAX_FILES))
    for n, u in enumerate(uploads, start=1):
        name = clean_name(u.name)
        if not u.data:
            raise errors.invalid(field, Msg("{name} is empty", name=name), n)
        if len(u.data) > MAX_FILE:
            raise errors.invalid(field, Msg("{name} is larger than {size} MB", name=name,
                                            size=MAX_FILE // 2**20), n)
        if _kind(u) not in ALLOWED:
            raise errors.invalid(field, Msg(
                "{name}: only PDF, images, text, CSV, Excel and Word files", name=name), n)


def clean_name(name: str) -> str:
    return _CONTROL.sub("", name or "")[:200] or "file"


def store(db: Session, org_id: str, institution_id: str | None, user_id: str | None,
          uploads: Sequence[Upload], already: int = 0, field: str = "files") -> list[str]:
    """Checks and adds the files in the caller's transaction; returns their ids."""
    check(uploads, already, field)
    ids = []
    for u in uploads:
        row = StoredFile(org_id=org_id, institution_id=institution_id, name=clean_name(u.name),
                         content_type=_kind(u)[:100], size=len(u.data),
                         sha256=hashlib.sha256(u.data).hexdigest(), data=u.data,
                         uploaded_by=user_id if user_id != "cli" else None)
        db.add(row)
        db.flush()
        ids.append(row.id)
    return ids

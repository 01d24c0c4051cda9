"""Files attached to an appeal (``supervision.models.StoredFile``): stored in the database,
readable by the uploading organisation and the supervisors of the institution, never public."""

from __future__ import annotations

import hashlib
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


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    data: bytes


def check(uploads: Sequence[Upload]) -> None:
    """Refuses the lot if one file is too large, of a kind we do not keep, or too many."""
    if len(uploads) > MAX_FILES:
        raise errors.invalid("files", Msg("takes at most {n}", n=MAX_FILES))
    for u in uploads:
        if len(u.data) > MAX_FILE:
            raise errors.invalid("files", Msg("{name} is larger than {size} MB",
                                              name=u.name[:100], size=5))
        if u.content_type.split(";")[0].strip() not in ALLOWED:
            raise errors.invalid("files", Msg(
                "{name}: only PDF, images, text, CSV, Excel and Word files", name=u.name[:100]))


def store(db: Session, org_id: str, institution_id: str | None, user_id: str | None,
          uploads: Sequence[Upload]) -> list[str]:
    """Adds the files in the caller's transaction; returns their ids."""
    check(uploads)
    ids = []
    for u in uploads:
        row = StoredFile(org_id=org_id, institution_id=institution_id, name=u.name[:200] or "file",
                         content_type=u.content_type.split(";")[0].strip()[:100],
                         size=len(u.data), sha256=hashlib.sha256(u.data).hexdigest(),
                         data=u.data, uploaded_by=user_id)
        db.add(row)
        db.flush()
        ids.append(row.id)
    return ids

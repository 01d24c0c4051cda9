"""Registering reports with their evidence from a workbook or CSV files, on the lab's
registration page (``/reports/new``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from tichub.core import errors, fields, limits
from tichub.core.auth import DB
from tichub.core.flash import flash
from tichub.core.messages import Msg
from tichub.reports.evidence import importer
from tichub.reports.issuing import Editor

router = APIRouter(include_in_schema=False)

fields.register({"file": Msg("Workbook or CSV files"), "institution_id": Msg("Issuing institution"),
                 **{sheet: Msg("sheet {sheet}", sheet=sheet) for sheet in importer.SHEETS},
                 # The column as its header names it: what the lab finds in its file.
                 **{f"{sheet}.{column}": Msg("sheet {sheet}, column {column}", sheet=sheet,
                                             column=column)
                    for sheet, columns in importer.COLUMNS.items() for column in columns}},
                under="/reports/import")


@router.get("/reports/import/template.xlsx", response_class=Response)
def template(principal: Editor) -> Response:
    return Response(importer.template_workbook(), media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        headers={"Content-Disposition": 'attachment; filename="reports-evidence.xlsx"'})


@router.post("/reports/import", response_model=None,
             max_body_size=limits.upload(importer.MAX_FILE_BYTES))
async def import_file(request: Request, db: DB, principal: Editor) -> Response:
    form = await request.form()
    institution_id = form.get("institution_id", "")
    if not isinstance(institution_id, str) or not institution_id.strip():
        raise errors.invalid("institution_id", Msg("is required"))
    files: dict[str, bytes] = {}
    for upload in form.getlist("file"):
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(importer.MAX_FILE_BYTES + 1)
            if data:
                files[upload.filename] = data
    sheets = importer.read_files(files)
    receipts = importer.import_reports(db, principal, request.app.state.log,
                                       institution_id.strip()[:40], sheets)
    return flash(request, RedirectResponse("/reports/mine", 303), Msg(
        "{n} reports registered with their evidence", n=len(receipts)))

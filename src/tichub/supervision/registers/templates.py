"""The blank files a lab fills to import its registers: the importer's columns, headed in
the reader's language (the importers take either language back), with one example row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi.responses import Response

from tichub.core import exports
from tichub.core.tables import Columns


def template(fmt: exports.Format, name: str, columns: Columns, headers_zh: Mapping[str, str],
             example: Sequence[Sequence[str]], zh: bool) -> Response:
    header = [headers_zh[f] if zh else f for f in columns]
    return exports.download(fmt, name, header, [list(r) for r in example], sheet=name)

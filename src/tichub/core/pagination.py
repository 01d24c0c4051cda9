"""One pagination style for every list endpoint: ``?page=1&per_page=20``."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

T = TypeVar("T")

MAX_PER_PAGE = 100
# Far past any list a person pages through, and page * per_page (at most 10**8) stays an
# offset every database takes: without a cap a large page overflowed the driver (a 500).
MAX_PAGE = 10**6


class PageParams(BaseModel):
    page: int = 1
    per_page: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


# The page query parameter, for list pages that take no per_page.
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]


def page_params(
    page: PageNumber = 1,
    per_page: Annotated[
        int, Query(ge=1, le=MAX_PER_PAGE, description="items per page")
    ] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @classmethod
    def of(cls, items: list[T], total: int, params: PageParams) -> Page[T]:
        return cls(items=items, total=total, page=params.page, per_page=params.per_page)

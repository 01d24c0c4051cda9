"""Fixed statements run straight on the DB-API cursor of the session's connection.

Registration runs a dozen small indexed statements for one record, and SQLAlchemy's work
for each (keying the statement for its cache, expanding ``IN`` lists, building the result)
cost several times the database's. A ``Statement`` is a Core statement compiled once per
database kind: lists are sent as one parameter (``= ANY(array)`` on PostgreSQL, a JSON
array through ``json_each`` on SQLite) so the SQL text never changes, and the values are
converted by the column types' own processors, so rows read as SQLAlchemy would give them.

A ``Batch`` sends statements together. On PostgreSQL the round trips and the driver's work
per statement, not the SQL, were most of a registration's time: up to a dozen SELECTs go
as one statement of one row, each one's rows a JSON array, read back through the same
column types; more than that, or writes, go in one pipeline; all prepared, with their
generic plans. On SQLite, which has no round trips, they run one after another."""

from __future__ import annotations

import json
import re
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import JSON, Enum
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

_DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.dialect(paramstyle="named"),
    "postgresql": postgresql.psycopg.dialect(),
}
_LIST = re.compile(r"(NOT )?IN \(__\[POSTCOMPILE_(\w+)\]\)")
_NAMES = {"sqlite": re.compile(r":(\w+)"), "postgresql": re.compile(r"%\((\w+)\)s")}

_GENERIC = "SET LOCAL plan_cache_mode = force_generic_plan"
_RESET = "SET LOCAL plan_cache_mode TO DEFAULT"
_RESET_IN_SELECT = ("(SELECT set_config(name, reset_val, true) FROM pg_settings "
                    "WHERE name = 'plan_cache_mode')")

Processor = Callable[[Any], Any] | None


@dataclass(eq=False)  # hashed by identity: a key of the combined statements
class _Compiled:
    sql: str
    params: list[tuple[str, Processor, bool, Any]]  # name, converter, is a list, default
    row: Any  # the named-tuple class of a row
    types: list[Any]
    names: list[str]  # the columns' names in the SQL
    select: bool
    order: list[str]  # the output columns its ORDER BY names, if it names only those
    columns: list[Processor] | None = None  # known from the first result's description
    from_json: list[Processor] | None = None


def _compile(stmt: Any, kind: str) -> _Compiled:
    dialect = _DIALECTS[kind]
    compiled = stmt.compile(dialect=dialect)
    lists: set[str] = set()

    def as_one_parameter(m: re.Match[str]) -> str:
        negated, name = m.group(1), m.group(2)
        lists.add(name)
        if kind == "postgresql":
            return f"{'<> ALL' if negated else '= ANY'}(%({name})s)"
        return f"{negated or ''}IN (SELECT value FROM json_each(:{name}))"

    sql = _LIST.sub(as_one_parameter, compiled.string)
    if "POSTCOMPILE" in sql:
        raise ValueError(f"a list parameter this module cannot send: {sql}")
    params = []
    for name in dict.fromkeys(_NAMES[kind].findall(sql)):
        bind = compiled.binds[name]
        convert = bind.type._cached_bind_processor(dialect)
        default = bind.effective_value if bind.callable is None and bind.value is not None \
            else None
        params.append((name, convert, name in lists, default))
    keys = [c[0] for c in compiled._result_columns]
    names = [c[1] for c in compiled._result_columns]
    types = [c[3] for c in compiled._result_columns]
    order = [getattr(o, "name", None) for o in getattr(stmt, "_order_by_clauses", ())]
    if not all(isinstance(o, str) and names.count(o) == 1 for o in order):
        order = []  # ordered by an expression: its consumers sort for themselves
    return _Compiled(sql, params, namedtuple("Row", keys), types, names,
                     bool(getattr(stmt, "is_select", False)), order)  # type: ignore[arg-type]


def _json_converter(t: Any, dialect: Dialect) -> Processor:
    """A JSON value of a column as the driver and the column type would have given it."""
    try:
        kind = (t.impl_instance if isinstance(t, TypeDecorator) else t).python_type
    except NotImplementedError:  # an untyped expression: as the database wrote it
        return None
    then = t._cached_result_processor(dialect, None) \
        if isinstance(t, (TypeDecorator, Enum)) else None
    first: Processor
    if kind is datetime:
        first = datetime.fromisoformat
    elif kind is date:
        first = date.fromisoformat
    elif kind is float:
        first = float
    elif kind is Decimal:
        first = Decimal  # sent as text (``_combine``): a JSON number would lose its scale
    elif kind in (str, int, bool, dict, list) or isinstance(t, (Enum, JSON)):
        first = None
    else:
        raise ValueError(f"a column type this module cannot read back from JSON: {t!r}")
    if first is None:
        return then
    if then is None:
        return first
    convert, finish = first, then
    return lambda v: finish(convert(v))


class Statement:
    """A Core statement (of columns, not ORM objects) compiled once per database kind."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        """``build``: the statement for a database kind ('sqlite', 'postgresql')."""
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, kind: str) -> _Compiled:
        found = self._compiled.get(kind)
        if found is None:  # two threads may both compile; one result is kept
            found = self._compiled.setdefault(kind, _compile(self._build(kind), kind))
        return found


def _bind(c: _Compiled, kind: str, given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, convert, is_list, default in c.params:
        value = given.get(name, default)
        if is_list:
            values = [convert(v) for v in value] if convert else list(value)
            out[name] = values if kind == "postgresql" else json.dumps(values)
        else:
            out[name] = convert(value) if convert and value is not None else value
    return out


def _rows(c: _Compiled, kind: str, cur: Any) -> list[Any]:
    if cur.description is None:  # a statement that returns no rows
        return []
    raw = cur.fetchall()
    if c.columns is None:
        # PostgreSQL's numeric columns are converted by the type the server says it sent.
        codes = [d[1] for d in cur.description or ()]
        dialect = _DIALECTS[kind]
        c.columns = [t._cached_result_processor(dialect, code)
                     for t, code in zip(c.types, codes, strict=True)]
    if not any(c.columns):
        return [c.row._make(r) for r in raw]
    procs = c.columns
    return [c.row._make([p(v) if p else v for p, v in zip(procs, r, strict=True)])
            for r in raw]


class Batch:
    """Statements run together in the session's transaction; ``add`` returns the list
    that ``run`` fills with the statement's rows."""

    def __init__(self, db: Session) -> None:
        conn = db.connection()
        self.kind = conn.dialect.name
        self._raw: Any = conn.connection.driver_connection
        self._pending: list[tuple[_Compiled, dict[str, Any], list[Any]]] = []
        self._generic = False

    def add(self, stmt: Statement, **params: Any) -> list[Any]:
        c = stmt.compiled(self.kind)
        out: list[Any] = []
        self._pending.append((c, _bind(c, self.kind, params), out))
        return out

    def run(self, generic: bool = True, last: bool = False) -> None:
        """Runs the statements added since the last run. On PostgreSQL, ``generic``: with
        the prepared statements' generic plans, from this run to the one marked ``last``
        (``SET LOCAL``, then back as it was; any statement of the transaction prepared by
        the driver in between is planned so too): with a list parameter the server would
        otherwise plan each run anew (a join of eight tables took 2 ms to plan, 0.2 ms to
        run), finding the generic plan's row guess too costly. On SQLite a write must come
        in a transaction that already holds the database's writer gate (one that wrote
        through SQLAlchemy): the driver's cursor bypasses the gate."""
        pending, self._pending = self._pending, []
        if not pending:
            if last and self._generic:
                self._raw.execute(_RESET, prepare=True)
                self._generic = False
            return
        if self.kind != "postgresql":
            if not all(c.select for c, _, _ in pending) and \
                    getattr(self._raw, "holds_gate", True) is False:
                raise RuntimeError("a write through the cursor outside a writing transaction")
            cur = self._raw.cursor()
            try:
                for c, params, out in pending:
                    cur.execute(c.sql, params)
                    out.extend(_rows(c, self.kind, cur))
            finally:
                cur.close()
            return
        sends: list[tuple[str, Any]] = []
        if generic and not self._generic:
            sends.append((_GENERIC, None))
            self._generic = True
        reset, self._generic = self._generic and last, self._generic and not last
        if len(pending) <= _AS_ONE_AT_MOST and all(c.select for c, _, _ in pending):
            parts = tuple(c for c, _, _ in pending)
            found = _COMBINED.get((parts, reset))
            if found is None:
                found = _COMBINED.setdefault((parts, reset), _combine(list(parts), reset))
            sql, order = found
            sends.append((sql, [pending[k][1][name] for k, name in order]))
            (cur,) = self._send(sends)
            try:
                rows = cur.fetchone()
            finally:
                cur.close()
            for (c, _, out), part in zip(pending, rows[:len(pending)], strict=True):
                out.extend(_from_json(c, part))
            return
        sends += [(c.sql, params) for c, params, _ in pending]
        if reset:
            sends.append((_RESET, None))
        cursors = self._send(sends)
        try:
            for cur, (c, _, out) in zip(cursors, pending, strict=True):
                out.extend(_rows(c, self.kind, cur))
        finally:
            for cur in cursors:
                cur.close()

    def _send(self, sends: list[tuple[str, Any]]) -> list[Any]:
        """Runs the statements, in one round trip; returns the cursors of those with
        parameters (their results to read). Each is prepared at once, not after psycopg's
        five runs: a rollback (of any read-only request on this connection) forgets them."""
        raw = self._raw

        def one(sql: str, params: Any) -> Any:
            # Placeholders already $n (a list) need no parsing, which psycopg caches only
            # for statements under 4 kB.
            cur = psycopg.RawCursor(raw) if isinstance(params, list) else raw.cursor()
            cur.execute(sql, params, prepare=True)
            return cur

        if len(sends) == 1:
            return [one(*sends[0])]
        out = []
        with raw.pipeline() as pipe:
            for sql, params in sends:
                cur = one(sql, params)
                if params is None:
                    cur.close()
                else:
                    out.append(cur)
            pipe.sync()
        return out


def _from_json(c: _Compiled, rows: list[list[Any]]) -> list[Any]:
    if c.from_json is None:
        c.from_json = [_json_converter(t, _DIALECTS["postgresql"]) for t in c.types]
    procs = c.from_json
    return [c.row._make([p(v) if p and v is not None else v
                         for p, v in zip(procs, r, strict=True)]) for r in rows]


# Beyond this many, the statements go one by one (in one round trip still): a call of a
# hundred records would otherwise make a new, large statement to plan for each count of
# items, instead of reusing a few small prepared ones.
_AS_ONE_AT_MOST = 12
_COMBINED: dict[tuple[tuple[_Compiled, ...], bool], tuple[str, list[tuple[int, str]]]] = {}


def _combine(parts: list[_Compiled], last: bool) -> tuple[str, list[tuple[int, str]]]:
    """SELECTs sent as one statement of one row, each one's rows a JSON array of arrays in
    its order: the driver's own work per statement (about 50 µs of CPU each here) was most
    of what was left. Returns the statement, with $n placeholders, and which statement's
    parameter each is."""
    columns = []
    order: list[tuple[int, str]] = []

    def placeholder(k: int) -> Callable[[re.Match[str]], str]:
        def put(m: re.Match[str]) -> str:
            # One number per parameter: a GROUP BY matches its expression only so.
            key = (k, m.group(1))
            if key not in order:
                order.append(key)
            return f"${order.index(key) + 1}"
        return put

    for k, c in enumerate(parts):
        sql = _NAMES["postgresql"].sub(placeholder(k), c.sql).replace("%%", "%")
        values = ", ".join(f't{k}."{n}"' + ("::text" if _is_decimal(t) else "")
                           for n, t in zip(c.names, c.types, strict=True))
        ordered = (" ORDER BY " + ", ".join(f't{k}."{n}"' for n in c.order)) if c.order \
            else ""
        columns.append(f"(SELECT coalesce(json_agg(json_build_array({values}){ordered}), "
                       f"'[]') FROM ({sql}) AS t{k})")
    if last:
        # The plan setting back as it was, once this statement's plan is chosen.
        columns.append(_RESET_IN_SELECT)
    return "SELECT " + ", ".join(columns), order


def _is_decimal(t: Any) -> bool:
    try:
        return (t.impl_instance if isinstance(t, TypeDecorator) else t).python_type is Decimal
    except NotImplementedError:
        return False

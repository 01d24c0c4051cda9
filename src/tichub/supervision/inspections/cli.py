"""``tichub supervision draw --verify PLAN_URL``: recompute a published double-random draw
from public data alone (the plan's JSON and the log's signed checkpoint), with no account and
no database."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn
from urllib.parse import urlsplit

import httpx
import typer

from tichub.reports.checkpoint import open_checkpoint
from tichub.reports.note import NoteError, Verifier
from tichub.supervision.inspections import draw


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _get(client: httpx.Client, url: str) -> httpx.Response:
    try:
        r = client.get(url)
    except httpx.HTTPError as exc:
        _fail(f"{url}: {exc.__class__.__name__}: {exc}")
    if r.status_code != 200:
        _fail(f"{url}: HTTP {r.status_code}")
    return r


def _plan(client: httpx.Client, url: str) -> dict[str, Any]:
    try:
        plan = _get(client, url).json()
    except ValueError:
        _fail(f"{url}: not JSON")
    if not isinstance(plan, dict) or not isinstance(plan.get("frozen"), dict):
        _fail(f"{url}: not a frozen inspection plan")
    return plan


def draw_command(
    verify: Annotated[str, typer.Option(
        "--verify", help="the plan's public address, https://…/api/supervision/plans/ID")],
    key: Annotated[str | None, typer.Option(
        help="the log's verifier key as the platform publishes it; without it the key in "
             "the plan's JSON is trusted")] = None,
    seed_size: Annotated[int | None, typer.Option(
        "--seed-size", min=1, help="draw from this checkpoint of the log instead of the "
                                   "published one (to see that another gives other picks)")
    ] = None,
) -> None:
    """Recompute a published draw and print its picks; exit 1 if they differ."""
    parts = urlsplit(verify)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        _fail(f"{verify}: not an http(s) address")
    base = f"{parts.scheme}://{parts.netloc}"
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        plan = _plan(client, verify)
        seeding = plan.get("checkpoint")
        if not isinstance(seeding, dict):
            _fail("the plan is not drawn yet: no seeding checkpoint")
        size = seed_size or int(seeding["size"])
        note = _get(client, f"{base}/api/reports/log/checkpoints/{size}").text
        log_size = int(plan["frozen"].get("log_size", 0))
        after = _get(client, f"{base}/api/reports/log/checkpoints?since={log_size + 1}"
                             "&limit=1").json().get("sizes", [])
    key_text = key or plan.get("log_key")
    if not key_text:
        _fail("no log key: pass --key")
    try:
        opened = open_checkpoint(note, Verifier.parse(str(key_text)))
    except (NoteError, ValueError) as exc:
        _fail(f"the log's checkpoint of size {size} does not verify: {exc}")
    checkpoint = opened.checkpoint
    if checkpoint.size != size:
        _fail(f"the log served a checkpoint of size {checkpoint.size} for size {size}")
    digest = draw.digest(plan["frozen"])
    if digest != plan.get("digest"):
        _fail(f"the frozen document hashes to {digest}, not to the published "
              f"{plan.get('digest')}")
    typer.echo(f"plan: {plan.get('title', '')} ({plan.get('id', '')})")
    typer.echo(f"digest: {digest} (matches the frozen document)")
    trust = "" if key else " (the log key was taken from the plan: pass --key to pin it)"
    typer.echo(f"checkpoint: size {checkpoint.size}, root {checkpoint.root_hash.hex()}, "
               f"signed by {checkpoint.origin}{trust}")
    if seed_size is None:
        if checkpoint.root_hash.hex() != seeding.get("root_hash"):
            _fail("the log's checkpoint root differs from the one the plan names")
        if checkpoint.size <= log_size:
            _fail(f"the seeding checkpoint (size {checkpoint.size}) is not after the log's "
                  f"size at the freeze ({log_size})")
        if after and after[0] != checkpoint.size:
            typer.echo(f"note: the log's first checkpoint after size {log_size} is of size "
                       f"{after[0]}; the plan was seeded by the first signed after its freeze")
    try:
        picks = draw.draw(plan["frozen"], digest, checkpoint.root_hash, checkpoint.size)
    except (draw.DrawError, KeyError, TypeError, ValueError) as exc:
        _fail(f"the draw cannot run on this document: {exc}")
    for p in picks:
        typer.echo(f"{p.tier} {p.rank:>3} {p.institution_id} inspectors "
                   f"{', '.join(p.inspector_ids)}")
    published = plan.get("picks") or []
    if draw.same_picks([p.as_dict() for p in picks], published):
        typer.echo(f"same picks as published: {len(picks)} institution(s)")
        return
    typer.echo("DIFFERENT picks from those published", err=True)
    raise typer.Exit(1)

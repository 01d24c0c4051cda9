"""A published draw recomputed from the public API alone, in a separate process, against a
served platform: `tichub supervision draw --verify PLAN_URL` prints the same picks; drawn
from another checkpoint, the picks differ and the command fails."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import LOG_KEY
from server import SRC, served
from supervision_world import PLAN, build, inspectors, integrate, register
from tichub.reports.note import Signer

API = "/api/supervision"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.run([sys.executable, "-c", "from tichub.cli import app; app()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_the_draw_is_recomputed_from_public_data_in_another_process(  # type: ignore[no-untyped-def]
        client, db, database_url, tmp_path) -> None:
    w = build(db, pudong_count=12)
    inspectors(client, w, "pudong", 4)
    plan = client.post(f"{API}/plans", json=PLAN, headers=w.auth["pudong"]).json()
    assert client.post(f"{API}/plans/{plan['id']}/freeze",
                       headers=w.auth["pudong"]).status_code == 200
    register(client, w, "R-2026-0001")
    integrate(client, db)  # the first checkpoint after the freeze: size 1
    register(client, w, "R-2026-0002")
    integrate(client, db)  # another one: size 2
    drawn = client.post(f"{API}/plans/{plan['id']}/draw", headers=w.auth["pudong"]).json()
    assert drawn["checkpoint"]["size"] == 1 and len(drawn["picks"]) == 2
    key = Signer.parse(LOG_KEY).verifier().encode()

    with served(database_url, LOG_KEY, tmp_path) as (url, _):
        plan_url = f"{url}{API}/plans/{plan['id']}"
        same = _cli("supervision", "draw", "--verify", plan_url, "--key", key)
        assert same.returncode == 0, same.stdout + same.stderr
        assert "same picks as published: 2 institution(s)" in same.stdout
        for p in drawn["picks"]:
            assert f"{p['institution_id']} inspectors {', '.join(p['inspector_ids'])}" \
                in same.stdout
        # Another checkpoint of the same log draws other picks: the command says so and fails.
        other = _cli("supervision", "draw", "--verify", plan_url, "--key", key,
                     "--seed-size", "2")
        assert other.returncode == 1 and "DIFFERENT picks" in other.stderr
        assert [ln for ln in other.stdout.splitlines() if " inspectors " in ln] != \
            [ln for ln in same.stdout.splitlines() if " inspectors " in ln]
        # A key that is not the log's refuses the checkpoint.
        wrong = Signer.generate("tichub.test/reports").verifier().encode()
        bad = _cli("supervision", "draw", "--verify", plan_url, "--key", wrong)
        assert bad.returncode == 1 and "does not verify" in bad.stderr
        missing = _cli("supervision", "draw", "--verify", f"{url}{API}/plans/{'0' * 26}")
        assert missing.returncode == 1 and "HTTP 404" in missing.stderr

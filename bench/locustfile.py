"""Mixed traffic for bench/load.py (run by it; not on its own): the public searching the
directory and verifying reports, labs registering reports with their API tokens, companies
booking shared instruments and ordering listed services.

Reads the set-up (tokens, ids) from the JSON file named by BENCH_LOAD_SETUP, and appends every
acknowledged write (201) to BENCH_LOAD_ACKS, one JSON line each, for load.py to look up in the
database afterwards."""

from __future__ import annotations

import itertools
import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

SETUP: dict[str, Any] = json.loads(Path(os.environ["BENCH_LOAD_SETUP"]).read_text())
ACKS = open(os.environ["BENCH_LOAD_ACKS"], "a", buffering=1)  # noqa: SIM115 (closed on quit)
SEARCHES = ["GB 4943.1", "锂离子电池", "GB 31241", "电磁兼容", "IEC 62133-2", "食品", "浦东",
            "GB/T 24067", "环境", "化学"]
SEQ = itertools.count(1)
# Bookings go to distinct quarter-hours of each instrument's calendar from tomorrow on; two
# users may still pick the same one (409 is the answer for the loser).
SLOT0 = (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0,
                                                        microsecond=0)
EXPECTED = {"registration": (201,), "booking": (201, 409), "order": (201,), "accept": (200,)}


def ack(kind: str, ident: str) -> None:
    ACKS.write(json.dumps({"kind": kind, "id": ident}) + "\n")


def check(response: Any, kind: str) -> bool:
    """Marks the response failed unless its status is one the kind expects."""
    ok = response.status_code in EXPECTED.get(kind, (200,))
    if ok:
        response.success()
    else:
        response.failure(f"HTTP {response.status_code}")
    return ok and response.status_code in (200, 201)


class Public(HttpUser):
    """Someone searching for a lab, or checking a report they were handed."""

    weight = 6
    wait_time = between(0.1, 0.5)

    @task(3)
    def search_api(self) -> None:
        with self.client.get("/api/registry/search", params={"q": random.choice(SEARCHES)},
                             name="search api", catch_response=True) as r:
            check(r, "search")

    @task(1)
    def search_page(self) -> None:
        with self.client.get("/institutions", params={"q": random.choice(SEARCHES)},
                             name="search page", catch_response=True) as r:
            check(r, "search")

    @task(4)
    def verify_api(self) -> None:
        number = random.choice(SETUP["numbers"])
        with self.client.get("/api/reports/verify", params={"number": number},
                             name="verify api", catch_response=True) as r:
            check(r, "verify")

    @task(2)
    def verify_page(self) -> None:
        number = random.choice(SETUP["numbers"])
        with self.client.get("/verify", params={"number": number}, name="verify page",
                             catch_response=True) as r:
            check(r, "verify")


class Lab(HttpUser):
    """A lab's LIMS registering the reports it issues, one call per report."""

    weight = 2
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.lab = random.choice(SETUP["labs"])
        self.headers = {"Authorization": f"Bearer {self.lab['token']}"}

    @task
    def register(self) -> None:
        n = next(SEQ)
        number = f"LOAD-{os.getpid()}-{self.lab['n']}-{n:07d}"
        body = {"number": number, "kind": "test_report", "institution_id": self.lab["inst"],
                "client": "上海某储能科技有限公司", "product": "锂离子电池组",
                "standards": [self.lab["standard"]], "marks": ["CNAS"],
                "sample_received_on": "2026-01-02", "tested_from": "2026-01-03",
                "tested_to": "2026-01-04", "issued_on": "2026-01-05",
                "signatories": [self.lab["signatory"]], "conclusion": "合格",
                "pdf_sha256": f"{n:064x}"}
        with self.client.post("/api/reports", json=body, headers=self.headers,
                              name="registration", catch_response=True) as r:
            if check(r, "registration"):
                ack("registration", r.json()["record_id"])


class Company(HttpUser):
    """A company booking instrument time and ordering tests."""

    weight = 2
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.company = SETUP["company"]
        self.headers = {"Authorization": f"Bearer {self.company['token']}"}

    @task(2)
    def book(self) -> None:
        inst = random.choice(SETUP["instruments"])
        start = SLOT0 + timedelta(minutes=15 * random.randrange(4 * 24 * 300))
        body = {"org_id": self.company["org"], "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(minutes=15)).isoformat(), "purpose": "load"}
        with self.client.post(f"/api/instruments/{inst}/bookings", json=body,
                              headers=self.headers, name="booking", catch_response=True) as r:
            if check(r, "booking"):
                ack("booking", r.json()["id"])

    @task(1)
    def order(self) -> None:
        listing = random.choice(SETUP["listings"])
        body = {"org_id": self.company["org"], "product": "锂离子电池组", "quantity": 2}
        with self.client.post(f"/api/services/{listing}/orders", json=body,
                              headers=self.headers, name="order", catch_response=True) as r:
            if not check(r, "order"):
                return
            order = r.json()
            ack("order", order["id"])
        if "accept" in order.get("actions", []):
            with self.client.post(f"/api/orders/{order['id']}/actions",
                                  json={"action": "accept"}, headers=self.headers,
                                  name="order accept", catch_response=True) as r:
                check(r, "accept")


@events.quitting.add_listener
def _close(environment: Any, **_: Any) -> None:
    ACKS.close()

"""Integrates queued records into the log in the background, so that an inclusion proof
is ready within the merge delay (``TICHUB_LOG_INTEGRATE_EVERY``) of a registration."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tichub.core.db import PATIENT, write_wait
from tichub.reports import service

log = logging.getLogger(__name__)


# Work that waits for a newly signed checkpoint, called with a fresh session after each
# one. The app wires these at start-up (e.g. supervision's draw of frozen inspection plans),
# so that the log does not depend on the domains that build on it.
AfterCheckpoint = Callable[[Session], object]


class Integrator:
    def __init__(self, factory: sessionmaker[Session], tlog: service.Log, every: float,
                 witness_urls: Sequence[str] = (),
                 after_checkpoint: Sequence[AfterCheckpoint] = ()) -> None:
        self.factory, self.tlog, self.every = factory, tlog, every
        self.witness_urls = list(witness_urls)
        self.after_checkpoint = list(after_checkpoint)
        self._believed: dict[str, int] = {}  # each witness's last cosigned size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="log-integrator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        pushed = -1
        with httpx.Client(timeout=10) as client:
            while not self._stop.wait(self.every):
                try:
                    # It waits its turn at the SQLite writer however long an import or a
                    # burst holds it, rather than giving up and trying again later.
                    with write_wait(PATIENT), self.factory() as db:
                        size = service.integrate_all(db, self.tlog)
                except Exception:  # the next round tries again; the queue loses nothing
                    log.exception("integrating the log failed")
                    continue
                if size != pushed:
                    self._push(client, size)
                    self.signed()
                    pushed = size

    def signed(self) -> None:
        """Runs the hooks after a new checkpoint; one failing does not stop the others
        nor the log (the next checkpoint calls it again)."""
        for hook in self.after_checkpoint:
            try:
                with write_wait(PATIENT), self.factory() as db:
                    hook(db)
            except Exception:
                log.exception("after-checkpoint hook %r failed", hook)

    def _push(self, client: httpx.Client, size: int) -> None:
        """Asks each witness to cosign the new checkpoint (C2SP tlog-witness)."""
        for url in self.witness_urls:
            try:
                with self.factory() as db:
                    service.push_to_witness(db, url, client, self._believed)
            except (service.WitnessRefused, httpx.HTTPError) as exc:
                log.warning("witness %s did not cosign size %d: %s", url, size, exc)

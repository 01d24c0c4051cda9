"""Progress bars for long command-line work, on stderr so stdout stays the command's result."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

# Given the amount of work and its label, a context giving the function to report steps.
ProgressFactory = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]
LONG_WORK = 10_000  # steps; below this a bar is shown only on a terminal


def bars(show: bool | None = None) -> ProgressFactory:
    """Bars always (True), never (False), or on a terminal and for long work (None)."""

    def factory(total: int, label: str) -> AbstractContextManager[Callable[[int], None]]:
        wanted = show if show is not None else sys.stderr.isatty() or total >= LONG_WORK
        return _Bar(total, label) if wanted else _NoBar()

    return factory


class _NoBar:
    def __enter__(self) -> Callable[[int], None]:
        return lambda n: None

    def __exit__(self, *exc: object) -> None:
        return None


class _Bar:
    def __init__(self, total: int, label: str) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self.progress: Any = Progress(console=Console(stderr=True))
        self.total, self.label = total, label

    def __enter__(self) -> Callable[[int], None]:
        self.progress.start()
        task = self.progress.add_task(self.label, total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

"""Progress on a terminal for long commands (rich), and nothing at all elsewhere.

Progress is shown only when stderr is a terminal and the ``CI`` variable is not set, so logs,
pipes and CI runs stay quiet. Updates are per stage or per group of files (never per file), so
the work being reported on is not slowed by its reporting.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import Any, TextIO


def wanted(stream: TextIO | None = None) -> bool:
    """Whether to show progress on ``stream`` (stderr by default)."""
    stream = stream or sys.stderr
    if os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A one-line live display: a spinner, the current stage and a count of groups done.

    A no-op (and no rich import) when :func:`wanted` says no. Use as a context manager.
    """

    def __init__(self, *, enabled: bool | None = None):
        self.enabled = wanted() if enabled is None else enabled
        self._progress: Any = None  # a rich Progress while shown
        self._task = None
        self._stage = ""
        self.done = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress as RichProgress
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = RichProgress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),  # (a stage may name a file: "[red]" is text)
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def stage(self, text: str) -> None:
        """Show that a new stage has begun."""
        self._stage = text
        self.done = 0
        if self._progress is not None:
            self._progress.update(self._task, description=text)
            self._progress.refresh()  # once per stage: a short stage is shown too

    def advance(self, groups: int = 1) -> None:
        """Count ``groups`` more groups done in the current stage."""
        self.done += groups
        if self._progress is not None:
            self._progress.update(self._task, description=f"{self._stage}: {self.done} done")

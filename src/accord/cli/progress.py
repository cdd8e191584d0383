"""Progress display for long commands: a bar on a terminal, silence elsewhere."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def stages(*, enabled: bool, title: str) -> Iterator[Callable[[str, int, int], None]]:
    """Yield a callback ``(stage, done, total)`` that shows progress on a terminal."""
    if not (enabled and sys.stderr.isatty()):
        yield lambda stage, done, total: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None, stage="")

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, stage=stage, completed=done, total=total or None)

        yield update

"""Keep an append-only list of the files a demo tool stored, to page through it newest first.

The demo's mail sink and fake SMS provider store one file per message. A busy demo
stores hundreds of thousands (a 1M-account book plans ~220,000 emails a day), and listing,
reading and sorting a folder that size takes seconds, on every page view. So each store
also appends the new file's name to the folder's journal, every name the same width:
a page of names is one seek and one read from the end, and the count is the size.

Appends are single ``write`` calls on a file opened ``O_APPEND``, so writers in several
processes (the dispatcher task and ``accord dispatch``) do not interleave within a name.
A journal created for a folder that already held files starts with their names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import overload

NAME = "journal"
"""The journal's file name inside the folder it lists."""


def append(path: Path, name: str, *, existing: Callable[[], Iterable[str]]) -> None:
    """Add ``name`` to the journal at ``path``, creating it if need be.

    A new journal first lists ``existing()``, oldest first: what the folder held before.
    ``existing`` is only called when this call creates the journal, and may include ``name``.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644)
        created = True
    except FileExistsError:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        created = False
    try:
        earlier = [old for old in existing() if old != name] if created else []
        os.write(fd, "".join(f"{old}\n" for old in [*earlier, name]).encode("ascii"))
    finally:
        os.close(fd)


class Journal(Sequence[str]):
    """Read a journal newest first, as a sequence of names a paginator can slice.

    Its length is fixed when it is opened, so a page stays put while new names arrive.
    A record that is not a well-formed name (a torn write) is left out of its slice.
    """

    def __init__(self, path: Path, *, width: int, valid: re.Pattern[str]) -> None:
        self._path = path
        self._record = width + 1  # the name and its newline
        self._valid = valid
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        self._count = size // self._record

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, int):
            position = index + self._count if index < 0 else index
            if not 0 <= position < self._count:
                raise IndexError(index)
            found = self._read(position, position + 1)
            if not found:
                raise IndexError(index)
            return found[0]
        start, stop, step = index.indices(self._count)
        if step != 1:
            return [self[i] for i in range(start, stop, step)]
        return self._read(start, stop)

    def _read(self, start: int, stop: int) -> list[str]:
        """Return the names from ``start`` to ``stop`` counted from the newest."""
        if start >= stop:
            return []
        first = self._count - stop  # records are stored oldest first
        with self._path.open("rb") as handle:
            handle.seek(first * self._record)
            chunk = handle.read((stop - start) * self._record)
        names = chunk.decode("ascii", errors="replace").split("\n")
        return [name for name in reversed(names) if self._valid.fullmatch(name)]


def names(path: Path, *, width: int, valid: re.Pattern[str]) -> Sequence[str] | None:
    """Return the journal at ``path`` newest first, or ``None`` when the folder has none."""
    if not path.is_file():
        return None
    return Journal(path, width=width, valid=valid)

"""One progress sink for every long stage: a tqdm bar on a terminal, silence elsewhere.

Stages call ``progress.stage(name, total)`` and ``update(n)``; the CLI decides whether
bars are shown (``--quiet``/``--json`` turn them off) by choosing the reporter. Other
front ends (the web server) pass ``on_update``, called with ``(stage, count, total)`` when
a stage starts and after every update, to follow the same stages without a terminal.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

#: ``on_update(stage, count, total)``: a stage's name, its units done so far and its
#: total (None when unknown).
ProgressCallback = Callable[[str, int, "int | None"], None]


class _Bar:
    def __init__(
        self, name: str, total: int | None, enabled: bool, unit: str, on_update: ProgressCallback | None = None
    ) -> None:
        self.name = name
        self.total = total
        self.count = 0
        self._bar = None
        self._on_update = on_update
        if on_update is not None:
            on_update(name, 0, total)
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=name, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)

    def update(self, n: int = 1, **postfix: object) -> None:
        self.count += n
        if self._bar is not None:
            if postfix:
                self._bar.set_postfix(postfix, refresh=False)
            self._bar.update(n)
        if self._on_update is not None:
            self._on_update(self.name, self.count, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


@dataclass
class Progress:
    """Shows progress bars (frames, steps, ETA) and records seconds per stage.

    Args:
        enabled: show bars on stderr; defaults to True.
        seconds: seconds spent per stage name, filled as stages end; defaults to empty.
        on_update: called with ``(stage, count, total)`` when a stage starts and after
            each ``update``, whether bars are shown or not; defaults to None.
    """

    enabled: bool = True
    seconds: dict[str, float] = field(default_factory=dict)
    on_update: ProgressCallback | None = None

    @contextmanager
    def stage(self, name: str, total: int | None = None, unit: str = "it") -> Iterator[_Bar]:
        bar = _Bar(name, total, self.enabled, unit, self.on_update)
        start = time.perf_counter()
        try:
            yield bar
        finally:
            bar.close()
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


    @contextmanager
    def timer(self, name: str) -> Iterator[None]:
        """Add the time spent inside to ``seconds[name]`` without showing a bar."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


SILENT = Progress(enabled=False)

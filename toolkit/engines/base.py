"""The seam between a migration's units of work and what runs them.

A ``Work`` opens, in whatever process runs it, the tools its units need
(connections, budgets) and gives back the function that does one unit. An
``Engine`` runs a list of units of one ``Work`` and hands each result to ``done``
as soon as that unit finishes, in the process that asked (the driver), so the run's
state is written there and only there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

U = TypeVar("U")
R = TypeVar("R")
U_contra = TypeVar("U_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


class Work(Protocol[U_contra, R_co]):
    def open(self, share: float) -> AbstractContextManager[Callable[[U_contra], R_co]]:
        """The tools of one process, for units run at once; ``share``: its part of the
        read and write budgets (1.0 when one set of tools serves every unit)."""
        ...


class Engine(Protocol):
    name: str
    in_process: bool  # units run on this process's threads, sharing its tools and state

    @property
    def one_machine(self) -> bool:
        """Every unit runs on this machine: its folders are theirs too."""
        ...

    @property
    def parallelism(self) -> int | None:
        """Units the engine can run at once (a cluster's task slots); None: no own limit."""
        ...

    def run(
        self,
        work: Work[U, R],
        units: Sequence[U],
        running: int,
        done: Callable[[U, R], None],
        stop: threading.Event,
    ) -> None:
        """Run ``units``, at most ``running`` at once; ``done`` for each as it finishes.

        Once ``stop`` is set no unit starts; a unit that fails stops the rest and its
        error is raised here.
        """
        ...

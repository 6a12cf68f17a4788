"""The copy's work, as each engine runs it.

``SharedCopy``: threads of the driver's process share one reader and one writer and
the whole budgets; each page of a resumable part is checkpointed as it is
acknowledged. ``PartsFromConfig``: picklable (the validated config and numbers,
never a connection, a lock or the state), so each Spark task opens its own reader
and writer from the config, with its share of the budgets; what it copied is
recorded by the driver when the task ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from toolkit.connectors import source_for, target_for
from toolkit.connectors.base import CopyJob, Source, Target
from toolkit.wire.retry import RetryPolicy
from toolkit.work.copy import CopyTools, PageCopied, PartCopied, PartStart, copy_part
from toolkit.work.ledger import Ledger
from toolkit.work.snapshot import SnapshotProgress

CopyOne = Callable[[PartStart], PartCopied]
CONNECTIONS = 2  # a task copies one part: a page's writes, one read at a time


@dataclass
class SharedCopy:
    job: CopyJob
    source: Source
    target: Target
    policy: RetryPolicy
    stop: threading.Event
    ledger: Ledger
    progress: SnapshotProgress

    @contextmanager
    def open(self, share: float) -> Iterator[CopyOne]:
        job, policy, workers = self.job, self.policy, self.job.workers
        with (
            self.source.reader(job, share, workers, policy) as reader,
            self.target.writer(job, share, workers, policy) as writer,
        ):
            tools = CopyTools(reader, writer, self.stop)
            yield lambda start: copy_part(job, start, tools, self._page)

    def _page(self, page: PageCopied) -> None:
        if page.part.resumable:
            self.ledger.page(page.part, page.position, page.items)
        self.progress.page_copied(page.items, page.size, page.expired)


@dataclass(frozen=True)
class PartsFromConfig:
    job: CopyJob

    @contextmanager
    def open(self, share: float) -> Iterator[CopyOne]:
        job = self.job
        policy = RetryPolicy(give_up_after=job.patience)
        source, target = source_for(job.config), target_for(job.config)
        with (
            source.reader(job, share, CONNECTIONS, policy) as reader,
            target.writer(job, share, CONNECTIONS, policy) as writer,
        ):
            tools = CopyTools(reader, writer)
            yield lambda start: copy_part(job, start, tools)

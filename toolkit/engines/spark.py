"""The Spark engine: each unit of work is one Spark task, on the cluster's executors.

Why the RDD API and one job per unit: a unit (a scan segment) takes seconds to
hours, so the ~20 ms a job costs is nothing, and a job's result reaches the driver
the moment its one task ends, so the driver records it in the run's state at once
and a killed driver resumes without redoing finished units. RDD tasks cost the
least per item measured here (27 us, against 38-58 us for a Python Data Source) and
need no pyarrow. Units run ``running`` at a time from driver threads; each task
gets ``1 / running`` of the read and write budgets.

A task rebuilds its connections from the (picklable) ``Work``; the toolkit must
be importable on every executor (installed there, or a packed venv through
``spark.archives``). A toolkit error inside a task comes back as a result, never as
a task failure, so Spark does not retry what the toolkit's own retries gave up on;
a lost executor's task is retried by Spark and copies only its own unit again.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from toolkit.engines.base import Work
from toolkit.engines.spark_settings import refuse_speculation
from toolkit.errors import TerminalError, ToolkitError, TransientError, UserError

log = logging.getLogger("migrator")
U = TypeVar("U")
R = TypeVar("R")
_EXCEPTION_LINE = re.compile(r"^(?:[\w$]+\.)*[\w$]*(?:Error|Exception)\b: .+")


@dataclass(frozen=True)
class _Done(Generic[R]):
    result: R


@dataclass(frozen=True)
class _Failed:
    message: str
    transient: bool


def run_task(work: Work[U, R], share: float, unit: U) -> _Done[R] | _Failed:
    """One unit, inside a Spark task: tools of its own, errors brought back as values."""
    try:
        with work.open(share) as do:
            return _Done(do(unit))
    except ToolkitError as error:
        return _Failed(str(error), error.transient)


class SparkEngine:
    name = "spark"
    in_process = False

    def __init__(self, context: Any) -> None:
        self._context = context

    @property
    def one_machine(self) -> bool:
        """local[N] and local-cluster[...] run every executor on this machine."""
        return str(self._context.master).startswith("local")

    @property
    def parallelism(self) -> int | None:
        """Task slots of the cluster, as Spark counts them."""
        return int(self._context.defaultParallelism)

    def close(self) -> None:
        from py4j.protocol import Py4JError

        try:
            self._context.stop()
        except (Py4JError, OSError) as error:  # the JVM is gone: the run's own error stands
            log.warning("The Spark driver's JVM was gone before the end: %s", one_line(error))
        _end_jvm(type(self._context))

    def run(
        self,
        work: Work[U, R],
        units: Sequence[U],
        running: int,
        done: Callable[[U, R], None],
        stop: threading.Event,
    ) -> None:
        group = f"toolkit-{uuid.uuid4().hex[:8]}"
        share = 1.0 / max(1, min(running, len(units)))
        with ThreadPoolExecutor(max(1, running), thread_name_prefix="spark-job") as pool:
            futures = {pool.submit(self._job, work, u, share, group, stop): u for u in units}
            self._wait(futures, done, group, stop)

    def _job(
        self, work: Work[U, R], unit: U, share: float, group: str, stop: threading.Event
    ) -> _Done[R] | _Failed | None:
        if stop.is_set():
            return None
        task = _Task(work, share)
        try:
            self._context.setJobGroup(group, f"toolkit: {unit}", interruptOnCancel=True)
            outcome: _Done[R] | _Failed = (
                self._context.parallelize([unit], 1).map(task).collect()[0]
            )
        except Exception as error:
            if stop.is_set():
                return None  # cancelled on the way out: the unit is simply not done
            raise _spark_failed(error) from None
        return outcome

    def _wait(
        self,
        futures: dict[Future[Any], U],
        done: Callable[[U, R], None],
        group: str,
        stop: threading.Event,
    ) -> None:
        pending, cancelled = set(futures), False
        try:
            while pending:
                ended, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                ran = [future for future in ended if future.exception() is None]
                for future in ran:  # finished units are recorded before a failure is raised
                    if isinstance(outcome := future.result(), _Done):
                        done(futures[future], outcome.result)
                for future in ended:
                    if isinstance(outcome := future.result(), _Failed):
                        error = TransientError if outcome.transient else TerminalError
                        raise error(outcome.message)
                if stop.is_set() and not cancelled:
                    log.info("Stopping: cancelling the Spark tasks that run; they are not recorded")
                    self._cancel(group)
                    cancelled = True
        except BaseException:
            stop.set()
            self._cancel(group)
            raise

    def _cancel(self, group: str) -> None:
        """Cancel the group's jobs, if the JVM still answers (else they are gone too)."""
        from py4j.protocol import Py4JError

        with suppress(Py4JError, OSError):
            self._context.cancelJobGroup(group)


@dataclass(frozen=True)
class _Task(Generic[U, R]):
    """The function a task runs: picklable, it carries only the work and the share."""

    work: Work[U, R]
    share: float

    def __call__(self, unit: U) -> _Done[R] | _Failed:
        return run_task(self.work, self.share, unit)


JVM_EXIT_SECONDS = 15.0


def _end_jvm(spark: Any) -> None:
    """End the JVM this process started (none under spark-submit), and wait for it:
    it logs while it shuts down, and the toolkit's last line must come after that."""
    gateway = spark._gateway
    proc = getattr(gateway, "proc", None)
    if proc is None:
        return
    spark._gateway = spark._jvm = None
    gateway.shutdown()
    proc.stdin.close()  # the JVM ends itself when its stdin closes
    try:
        proc.wait(JVM_EXIT_SECONDS)
    except subprocess.TimeoutExpired:
        log.warning("The Spark JVM did not end within %.0f s; killing it", JVM_EXIT_SECONDS)
        proc.kill()
        proc.wait()


def _spark_failed(error: Exception) -> TerminalError:
    """A job that failed: its task's error, or the driver's JVM gone."""
    from py4j.protocol import Py4JNetworkError

    if isinstance(error, (Py4JNetworkError, OSError)):
        return TerminalError(
            f"the Spark driver's JVM stopped answering ({one_line(error)}); it may have been "
            "killed or run out of memory: run the same command again, it resumes from its state"
        )
    return TerminalError(f"a Spark task failed: {one_line(error)}")


def _quiet_py4j(record: logging.LogRecord) -> bool:
    """Py4J logs its lost connections, with their traces, on the root logger; the
    toolkit reports the failure itself, in one line."""
    return f"{os.sep}py4j{os.sep}" not in record.pathname


def _quiet_accumulators(context: Any) -> None:
    """PySpark's accumulator server (socketserver) prints a trace to stderr when the
    JVM's connection to it drops; the toolkit reports that failure itself."""
    server = getattr(context, "_accumulatorServer", None)
    if server is not None:
        server.handle_error = lambda _request, _address: log.debug(
            "Spark's accumulator connection ended", exc_info=True
        )


def one_line(error: BaseException) -> str:
    """The first line that names an exception, out of Spark's (Java and Python) traces."""
    lines = [line.strip().lstrip(": ") for line in str(error).splitlines()]  # Py4J's ": "
    named = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return next(iter(named or [line for line in lines if line]), type(error).__name__)


def start_spark(master: str | None, settings: Sequence[tuple[str, str]]) -> SparkEngine:
    """Start (or join, under spark-submit) the Spark driver; one line if it cannot start."""
    try:
        from pyspark import SparkConf, SparkContext
    except ImportError as error:
        raise UserError(
            f"--engine spark needs PySpark, which is not installed here ({error}); "
            "install the toolkit with its spark extra: pip install 'toolkit[spark]'"
        ) from None
    # The toolkit draws its own progress bar: Spark's stage bar would garble it.
    conf = SparkConf().setAppName("toolkit").set("spark.ui.showConsoleProgress", "false")
    for key, value in settings:
        conf.set(key, value)
    if master:  # else spark-submit's, which is local[*] unless it was given one
        conf.setMaster(master)
    logging.getLogger().addFilter(_quiet_py4j)
    handler = signal.getsignal(signal.SIGINT)
    try:
        context = SparkContext.getOrCreate(conf)
    except Exception as error:
        where = f"--master {master}" if master else "Spark"
        raise UserError(f"{where}: the Spark driver did not start: {one_line(error)}") from None
    finally:
        # PySpark takes SIGINT over; the toolkit's graceful stop must keep it.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, handler)
    _quiet_accumulators(context)
    try:  # spark-submit's --conf, or the cluster's defaults, are seen only now
        refuse_speculation(
            "spark.speculation", context.getConf().get("spark.speculation", ""), "Spark"
        )
    except UserError:
        SparkEngine(context).close()
        raise
    log.info("Spark engine: master %s, %d task slots", context.master, context.defaultParallelism)
    return SparkEngine(context)

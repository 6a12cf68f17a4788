"""A side that stops answering is said at once, at most every few seconds after, and
when it answers again; the common case (it answers) says nothing."""

from __future__ import annotations

import logging

import pytest

from toolkit.wire.reachability import Reachability


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_said_every_few_seconds_and_its_end_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    side = Reachability("target http://t:8000", 120, every=5, clock=clock, wall=lambda: 0.0)
    caplog.set_level(logging.INFO, "migrator")
    side.answered()
    assert caplog.messages == []
    for _ in range(30):  # 30 failures over 9 s: lines at 0, 5 s
        side.failed("target http://t:8000", "refused")
        clock.now += 0.3
    down = [m for m in caplog.messages if "does not answer (refused)" in m]
    assert len(down) == 2
    assert "0 s ago" in down[0] and "5 s ago" in down[1]
    assert all("keeps trying for up to 120 s" in m for m in down)
    side.answered()
    side.answered()
    assert caplog.messages[-1] == "target http://t:8000 answers again, after 9 s"
    assert sum("answers again" in m for m in caplog.messages) == 1
    side.failed("target http://t:8000", "reset")  # a new outage starts its own count
    assert caplog.messages[-1].startswith("target http://t:8000 does not answer (reset)")
    assert "0 s ago" in caplog.messages[-1]

"""onair.usecases.refresh on in-memory ports: each tick queues one published run per schedule and local day
once the schedule's local time has passed `at`, whatever the zone, on DST days too."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from onair import keys
from onair.records import RefreshPolicy
from onair.usecases import refresh, runs, schedules
from onair.usecases.schedules import Document
from tests.conftest import SAMPLE_ONAIR, SAMPLE_XMLTV
from tests.fakes import World, world


def onair_in(zone: str) -> bytes:
    return SAMPLE_ONAIR.replace(b'timezone="Europe/Paris"', f'timezone="{zone}"'.encode())


def with_policy(w: World, body: bytes, at: str, days: int = 2) -> str:
    document = Document(body)
    return schedules.create_schedule(w.services, document, refresh=RefreshPolicy(days=days, at=at)).id


def tick_at(w: World, when: datetime) -> refresh.Tick:
    w.clock.now = when
    return refresh.tick(w.services)


def jobs_sent(w: World) -> list[dict]:
    return [m.body for m in w.queues.sent if m.queue_url == w.settings.job_queue_url]


def test_a_tick_after_the_policys_time_queues_one_published_run_of_the_next_days():
    w = world(now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    sid = with_policy(w, SAMPLE_XMLTV, "06:00", days=3)
    assert tick_at(w, datetime(2026, 12, 1, 5, 59, tzinfo=UTC)).queued == []  # XMLTV: UTC
    result = tick_at(w, datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
    [job] = jobs_sent(w)
    assert result.queued == [job["run_id"]] and result.skipped == {}
    assert (job["schedule_id"], job["from"], job["days"], job["publish"]) == (sid, "2026-12-01", 3, True)


def test_ticks_on_one_local_day_make_one_run_and_the_next_day_another():
    w = world(now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC))
    with_policy(w, SAMPLE_XMLTV, "06:00")
    first = tick_at(w, datetime(2026, 12, 1, 6, 5, tzinfo=UTC))
    again = tick_at(w, datetime(2026, 12, 1, 23, 59, tzinfo=UTC))
    assert again.queued == first.queued and len(jobs_sent(w)) == 1
    tomorrow = tick_at(w, datetime(2026, 12, 2, 6, 5, tzinfo=UTC))
    assert tomorrow.queued != first.queued
    assert [job["from"] for job in jobs_sent(w)] == ["2026-12-01", "2026-12-02"]


@pytest.mark.parametrize(
    ("zone", "at", "before", "after", "day"),
    [
        # Ahead of UTC: the local day starts on the previous UTC day
        (
            "Pacific/Auckland",
            "00:30",
            datetime(2026, 12, 1, 11, 29),
            datetime(2026, 12, 1, 11, 30),
            "2026-12-02",
        ),
        # Behind UTC: the local day ends on the next UTC day
        (
            "America/Los_Angeles",
            "22:00",
            datetime(2026, 12, 2, 5, 59),
            datetime(2026, 12, 2, 6, 0),
            "2026-12-01",
        ),
        # Paris springs forward (02:00 -> 03:00, 29 March): 02:30 does not exist, so the first tick after 02:00 runs
        ("Europe/Paris", "02:30", datetime(2026, 3, 29, 0, 59), datetime(2026, 3, 29, 1, 0), "2026-03-29"),
        # Paris falls back (03:00 -> 02:00, 25 October): 02:30 comes first in summer time
        ("Europe/Paris", "02:30", datetime(2026, 10, 25, 0, 29), datetime(2026, 10, 25, 0, 30), "2026-10-25"),
    ],
    ids=["auckland", "los-angeles", "spring-forward", "fall-back"],
)
def test_the_policys_time_and_day_are_the_schedules_local_ones(zone, at, before, after, day):
    w = world(now=datetime(2026, 1, 1, tzinfo=UTC))
    with_policy(w, onair_in(zone), at, days=1)
    assert tick_at(w, before.replace(tzinfo=UTC)).queued == []
    assert len(tick_at(w, after.replace(tzinfo=UTC)).queued) == 1
    [job] = jobs_sent(w)
    assert job["from"] == day


def test_the_hour_a_fall_back_repeats_queues_no_second_run():
    # Given Paris's 25 October 2026: 02:30 is 00:30 UTC (summer time), then again 01:30 UTC (winter time)
    w = world(now=datetime(2026, 10, 24, tzinfo=UTC))
    with_policy(w, onair_in("Europe/Paris"), "02:30", days=1)
    first = tick_at(w, datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    repeated = tick_at(w, datetime(2026, 10, 25, 1, 30, tzinfo=UTC))
    assert repeated.queued == first.queued and len(jobs_sent(w)) == 1


def test_a_schedule_that_cannot_run_is_skipped_and_the_others_are_queued():
    # Given a RunFunction too small for the OnAir schedule's runs, and an XMLTV listing (no floor)
    w = world(now=datetime(2026, 12, 1, 7, tzinfo=UTC), run_memory_mb=129)
    too_large = with_policy(w, SAMPLE_ONAIR, "06:00")  # 2 days, ~720 slots: the budget is 512
    listing = with_policy(w, SAMPLE_XMLTV, "06:00")
    result = tick_at(w, datetime(2026, 12, 1, 7, tzinfo=UTC))
    assert list(result.skipped) == [too_large] and result.skipped[too_large].startswith("run_too_large: ")
    assert [job["schedule_id"] for job in jobs_sent(w)] == [listing]


def test_a_schedule_deleted_between_listing_and_reading_is_passed_over():
    w = world(now=datetime(2026, 12, 1, 7, tzinfo=UTC))
    gone, kept = with_policy(w, SAMPLE_XMLTV, "06:00"), with_policy(w, SAMPLE_XMLTV, "06:00")
    w.store.once("get", keys.refresh_policy(gone), lambda: schedules.delete_schedule(w.services, gone))
    result = tick_at(w, datetime(2026, 12, 1, 7, tzinfo=UTC))
    assert result.skipped == {} and [job["schedule_id"] for job in jobs_sent(w)] == [kept]


def test_schedules_without_a_policy_are_not_refreshed():
    w = world(now=datetime(2026, 12, 1, 7, tzinfo=UTC))
    sid = with_policy(w, SAMPLE_XMLTV, "06:00")
    schedules.replace_schedule(w.services, sid, Document(SAMPLE_XMLTV), refresh=None)
    assert tick_at(w, datetime(2026, 12, 1, 8, tzinfo=UTC)).queued == []
    assert runs.list_runs(w.services)[0] == []


def test_the_runs_day_is_the_local_date_of_the_tick():
    w = world(now=datetime(2026, 12, 1, tzinfo=UTC))
    sid = with_policy(w, onair_in("Asia/Tokyo"), "00:00", days=1)
    [run_id] = tick_at(w, datetime(2026, 12, 1, 15, 0, tzinfo=UTC)).queued  # 2 Dec 00:00 in Tokyo
    status = runs.load_status(w.services, run_id)
    assert (status.schedule_id, date.fromisoformat(status.request["from"])) == (sid, date(2026, 12, 2))

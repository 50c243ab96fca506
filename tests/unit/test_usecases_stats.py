"""onair.usecases.stats on in-memory ports: GET /queue-stats reads each queue's depth and the run cap."""

from __future__ import annotations

from datetime import timedelta

from onair.usecases.stats import MAX_AGE
from tests.fakes import world


def test_queue_stats_report_each_queues_depth_and_the_templates_run_cap():
    # Given two jobs waiting, one import, and one dead letter of each kind
    w = world()
    settings = w.settings
    for url, count in (
        (settings.job_queue_url, 2),
        (settings.import_queue_url, 1),
        (settings.job_dlq_url, 1),
        (settings.import_dlq_url, 1),
    ):
        for n in range(count):
            w.queues.send(url, {"n": n})
    from onair.usecases.stats import queue_stats

    # Then the stats say so, with RunConcurrency from template.yaml
    assert queue_stats(w.services) == {
        "jobs": {"visible": 2, "in_flight": 0, "delayed": 0},
        "imports": {"visible": 1, "in_flight": 0, "delayed": 0},
        "dead_letters": {"jobs": 1, "imports": 1},
        "run_concurrency_limit": settings.run_concurrency_limit,
    }
    assert settings.run_concurrency_limit >= 1
    assert (
        len(
            {settings.job_queue_url, settings.import_queue_url, settings.job_dlq_url, settings.import_dlq_url}
        )
        == 4
    )


def test_queue_stats_within_max_age_answer_the_environments_last_read_without_asking_sqs():
    # Given stats read once, then a job sent
    from onair.usecases.stats import queue_stats

    w = world()
    first = queue_stats(w.services)
    w.queues.send(w.settings.job_queue_url, {"n": 1})
    asked = counting_depths(w)
    # When they are read again before MAX_AGE has passed
    w.clock.now += MAX_AGE - timedelta(milliseconds=1)
    again = queue_stats(w.services)
    # Then the answer is the first one, and no queue was asked
    assert again == first and again["jobs"]["visible"] == 0
    assert asked == []


def test_queue_stats_are_read_again_once_max_age_has_passed_or_when_asked_fresh():
    from onair.usecases.stats import queue_stats

    w = world()
    queue_stats(w.services)
    w.queues.send(w.settings.job_queue_url, {"n": 1})
    # When asked fresh, the queues are read now
    assert queue_stats(w.services, fresh=True)["jobs"]["visible"] == 1
    w.queues.send(w.settings.job_queue_url, {"n": 2})
    # And once MAX_AGE has passed since that read, too
    w.clock.now += MAX_AGE
    assert queue_stats(w.services)["jobs"]["visible"] == 2


def test_queue_stats_of_another_environment_or_after_the_clock_went_back_are_its_own():
    from onair.usecases.stats import queue_stats

    w, other = world(), world()
    queue_stats(w.services)
    other.queues.send(other.settings.job_queue_url, {"n": 1})
    # Another environment's wiring never gets this one's answer
    assert queue_stats(other.services)["jobs"]["visible"] == 1
    w.queues.send(w.settings.job_queue_url, {"n": 1})
    queue_stats(w.services)
    w.queues.send(w.settings.job_queue_url, {"n": 2})
    # A clock that went back reads again rather than trusting an answer "from the future"
    w.clock.now -= timedelta(seconds=1)
    assert queue_stats(w.services)["jobs"]["visible"] == 2


def test_a_cached_answer_is_a_copy_the_caller_may_change():
    from onair.usecases.stats import queue_stats

    w = world()
    queue_stats(w.services)["jobs"]["visible"] = 99
    assert queue_stats(w.services)["jobs"]["visible"] == 0


def counting_depths(w) -> list[str]:
    """The queue URLs the stats ask for from now on."""
    asked: list[str] = []
    depth = w.queues.depth

    def counted(url: str) -> dict[str, int]:
        asked.append(url)
        return depth(url)

    w.queues.depth = counted
    return asked

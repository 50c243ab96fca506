"""onair.usecases.stats on in-memory ports: GET /queue-stats reads each queue's depth and the run cap."""

from __future__ import annotations

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

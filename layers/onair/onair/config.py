"""Typed settings, read from the environment that template.yaml declares, once per cold start."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    bucket: str
    run_memory_mb: int  # RunFunction's MemorySize (RunMemorySize): its slot budget, predicted by the API too
    job_queue_url: str = ""
    import_queue_url: str = ""
    import_dlq_url: str = ""
    job_dlq_url: str = ""
    run_concurrency_limit: int = 0
    max_receive_count: int = 5
    max_import_bytes: int = 5 * 1024 * 1024
    max_upload_bytes: int = 200 * 1024 * 1024
    upload_url_seconds: int = 900

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)

        def number(name: str, default: int) -> int:
            return int(env.get(name) or default)

        return cls(
            bucket=env["BUCKET_NAME"],
            run_memory_mb=int(env["RUN_MEMORY_MB"]),
            job_queue_url=env.get("JOB_QUEUE_URL", ""),
            import_queue_url=env.get("IMPORT_QUEUE_URL", ""),
            import_dlq_url=env.get("IMPORT_DLQ_URL", ""),
            job_dlq_url=env.get("JOB_DLQ_URL", ""),
            run_concurrency_limit=number("RUN_CONCURRENCY_LIMIT", 0),
            max_receive_count=number("MAX_RECEIVE_COUNT", cls.max_receive_count),
            max_import_bytes=number("MAX_IMPORT_BYTES", cls.max_import_bytes),
            max_upload_bytes=number("MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            upload_url_seconds=number("UPLOAD_URL_SECONDS", cls.upload_url_seconds),
        )


@cache
def settings() -> Settings:
    """The settings of this execution environment (the environment does not change while it lives)."""
    return Settings.from_env()

"""Typed settings per function, read once from the environment template.yaml gives it, at cold start.

Each function's handler builds its own model (`ApiSettings.from_env()` …) when it is imported, so a
variable the template forgot fails the init with its name instead of the first request that needs it.
The use cases read the fields of the common `Settings`; a function's model makes required what it uses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

MIB = 1024 * 1024


class Settings(BaseModel):
    """Every function's settings. A field left at its default is one the function does not use."""

    # defer_build: a model's validator is built when first used, so a function builds only its own
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    bucket: str = Field(alias="BUCKET_NAME", min_length=1)
    max_receive_count: int = Field(5, alias="MAX_RECEIVE_COUNT", ge=1)
    run_memory_mb: int = Field(1024, alias="RUN_MEMORY_MB", ge=128)
    job_queue_url: str = Field("", alias="JOB_QUEUE_URL")
    import_queue_url: str = Field("", alias="IMPORT_QUEUE_URL")
    import_dlq_url: str = Field("", alias="IMPORT_DLQ_URL")
    job_dlq_url: str = Field("", alias="JOB_DLQ_URL")
    run_concurrency_limit: int = Field(0, alias="RUN_CONCURRENCY_LIMIT")
    max_import_bytes: int = Field(5 * MIB, alias="MAX_IMPORT_BYTES", ge=1)
    max_upload_bytes: int = Field(200 * MIB, alias="MAX_UPLOAD_BYTES", ge=1)
    upload_url_seconds: int = Field(900, alias="UPLOAD_URL_SECONDS", ge=60)
    public_base_url: str = Field("", alias="PUBLIC_BASE_URL")  # feeds' absolute URLs; "" = the request's host

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if env is None else env))


def _required(alias: str) -> str:
    return Field(alias=alias, min_length=1)  # type: ignore[no-any-return]


class ApiSettings(Settings):
    """ApiFunction: the management routes (imports, reads, run requests, uploads, queue stats)."""

    run_memory_mb: int = Field(alias="RUN_MEMORY_MB", ge=128)
    job_queue_url: str = _required("JOB_QUEUE_URL")
    import_queue_url: str = _required("IMPORT_QUEUE_URL")
    import_dlq_url: str = _required("IMPORT_DLQ_URL")
    job_dlq_url: str = _required("JOB_DLQ_URL")
    run_concurrency_limit: int = Field(alias="RUN_CONCURRENCY_LIMIT", ge=1)
    # The console's configuration (GET /console/config.json): how the API authorizes (template AuthMode)
    # and, with jwt, the OIDC issuer and the console's public client (the first of JwtAudience).
    auth_mode: Literal["iam", "jwt", "none"] = Field(alias="AUTH_MODE")
    oidc_issuer: str = Field("", alias="OIDC_ISSUER")
    oidc_client_id: str = Field("", alias="OIDC_CLIENT_ID")


class FeedSettings(Settings):
    """FeedFunction: the public feed routes (read only)."""

    # segments of a live playlist's sliding window (at least three target durations whatever this says)
    live_window_segments: int = Field(6, alias="LIVE_WINDOW_SEGMENTS", ge=1, le=1000)


class ImportSettings(Settings):
    """ImportFunction: presigned uploads landed in S3, from ImportQueue."""

    import_dlq_url: str = _required("IMPORT_DLQ_URL")


class RunSettings(Settings):
    """RunFunction: run jobs from JobQueue."""

    run_memory_mb: int = Field(alias="RUN_MEMORY_MB", ge=128)


class RefreshSettings(Settings):
    """RefreshFunction: the scheduler's tick queues the day's refresh runs."""

    job_queue_url: str = _required("JOB_QUEUE_URL")
    run_memory_mb: int = Field(alias="RUN_MEMORY_MB", ge=128)

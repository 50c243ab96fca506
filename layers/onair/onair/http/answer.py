"""The base of every API answer, and the error body every HTTP function answers with. Apart from the
management API's answers (onair.http.models): FeedFunction answers files and errors only, and creating
those ~30 model classes was ~70 ms of its cold start."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    """An answer's optional field that has no value is left out (onair.http.resolver's serializer)."""

    # defer_build: a model's validator is built when first used, not at import (an environment answers
    # with few of the models).
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ErrorDetail(Answer):
    code: str = Field(description="finding code, e.g. notwell or an XMLTV tv_validate_file code")
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = Field(default=None, description="element path, or the request field at fault")


class ErrorInfo(Answer):
    code: str = Field(description="stable error code, e.g. not_well_formed, invalid_schedule, not_found")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(Answer):
    """Every 4xx (and 500) answer."""

    error: ErrorInfo

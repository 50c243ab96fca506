"""Domain errors with a stable `code`; the HTTP mapping lives in one place (onair/http/resolver.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One problem found in a document: what, where (line/column/element path) and how bad."""

    code: str
    message: str
    line: int | None = None
    column: int | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class OnAirError(Exception):
    """Base of every error a client can act on. `status` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, details: list[Finding] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "details": [finding.to_dict() for finding in self.details],
            }
        }


class BadRequest(OnAirError):
    """The request itself is wrong (parameters, body shape)."""


class NotFound(OnAirError):
    status = 404
    code = "not_found"


class Conflict(OnAirError):
    status = 409
    code = "conflict"


class PreconditionFailed(OnAirError):
    """A conditional request (If-Match) names a version that is no longer the current one."""

    status = 412
    code = "precondition_failed"


class DocumentRejected(OnAirError):
    """An XML document that cannot be imported. Permanent: retrying the same bytes gives the same answer."""


class NotWellFormed(DocumentRejected):
    code = "not_well_formed"


class NotASchedule(DocumentRejected):
    code = "not_a_schedule"


class InvalidSchedule(DocumentRejected):
    status = 422
    code = "invalid_schedule"


class TooLarge(DocumentRejected):
    status = 413
    code = "too_large"


class UnsupportedMediaType(DocumentRejected):
    status = 415
    code = "unsupported_media_type"


class Transient(Exception):
    """A failure that says nothing about the request or the document: the same work may succeed later.
    Run jobs and upload imports are retried (SQS redelivers them) for these only; the API answers 503."""


class Unavailable(Transient):
    """Storage or a queue failed (throttling, a timeout, a lost connection, an AWS 5xx). The adapters
    (onair/adapters/) raise it for every AWS error they do not turn into a domain answer."""


class RunInProgress(Transient):
    """Another delivery of the same job holds the run (its lease has not expired): try again later."""


class RunTooLarge(OnAirError):
    """A run would make more slots than RunFunction's memory can hold (playout/budget.py). Permanent: the
    same schedule and request need the same memory. Answered at the request when it is certain, else the
    run fails with this code as soon as its playout passes the budget."""

    status = 422
    code = "run_too_large"

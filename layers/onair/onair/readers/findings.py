"""What a reader found in a document: errors and warnings, each list capped at MAX_FINDINGS while the
totals keep counting, so a rejection says how many there were and the warnings end with a `truncated`
entry that gives theirs (docs/FORMATS.md). Strict mode makes every warning an error."""

from __future__ import annotations

from onair.errors import Finding, InvalidSchedule

MAX_FINDINGS = 200


class Findings:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.errors: list[Finding] = []
        self._warnings: list[Finding] = []
        self.error_total = 0
        self.warning_total = 0
        self.fatal_total = 0  # errors in lenient mode too: they decide whether an element is kept

    def add(
        self, code: str, message: str, line: int | None, path: str | None, *, fatal: bool = False
    ) -> None:
        """A finding; `fatal` ones (the data is unusable) are errors in lenient mode too."""
        if fatal:
            self.fatal_total += 1
        if fatal or self.strict:
            self.error_total += 1
            if len(self.errors) < MAX_FINDINGS:
                self.errors.append(Finding(code, message, line, None, path))
        else:
            self.warning_total += 1
            if len(self._warnings) < MAX_FINDINGS:
                self._warnings.append(Finding(code, message, line, None, path))

    def raise_if_any(self, document: str) -> None:
        """InvalidSchedule listing the errors, if there are any; `document` names it ("the OnAir schedule")."""
        if self.error_total:
            listed = len(self.errors)
            raise InvalidSchedule(
                f"{document} has {self.error_total} error(s)"
                + (f"; the first {listed} are listed" if listed < self.error_total else "")
                + (" (strict mode: warnings count as errors)" if self.strict else ""),
                details=self.errors,
            )

    def warnings(self, path: str) -> list[Finding]:
        """The warnings listed, then, when there were more, one `truncated` at `path` (the root) with the total."""
        listed = list(self._warnings)
        if self.warning_total > len(listed):
            more, total = self.warning_total - len(listed), self.warning_total
            listed.append(
                Finding("truncated", f"{more} more of {total} warnings are not listed", None, None, path)
            )
        return listed

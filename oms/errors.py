"""Error families, grouped by what the runner should do with them (DESIGN.md, STYLE.md §9).

- `ConfigError`: fix the YAML/settings, fail fast, never retry.
- `RetriableError`: a transient outage; Airflow retries the task.
- `DataError`: a bad record; it goes to quarantine, the batch goes on.
- `FatalError`: the run must stop (e.g. the reject threshold is exceeded).

Every other package raises subclasses of these, so callers can branch on the family.
"""

from __future__ import annotations


class OmshubError(Exception):
    """Root of every error omshub raises on purpose."""


class ConfigError(OmshubError):
    """Configuration (YAML, settings, connection) is wrong: fix it and re-run."""


class RetriableError(OmshubError):
    """A transient failure (network, lock, unavailable server): retrying may succeed."""


class DataError(OmshubError):
    """One record is bad: quarantine it, keep loading the others."""


class FatalError(OmshubError):
    """The run cannot continue safely and must fail loudly."""


class LoadError(FatalError):
    """The loader could not write a batch; the transaction was rolled back."""


class RejectThresholdExceeded(FatalError):
    """More rows of a batch failed validation than the source allows."""


class BatchFailed(FatalError):
    """Processing one landed batch failed; the reason is recorded on the batch and the run.

    `kind` says what failed it (config | data | internal); `retriable` whether running
    it again without a fix may succeed (Airflow retries those, never config/data).
    """

    def __init__(self, message: str, *, kind: str, retriable: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.retriable = retriable


class SourceBusy(RetriableError):
    """Another run of the same source holds its run lock (and the caller chose not to wait)."""


class StoreBusy(RetriableError):
    """The store's write lock (SQLite) stayed taken longer than the caller would wait."""

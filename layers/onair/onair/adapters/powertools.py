"""Powertools Logger, Tracer and Metrics, created once for every function, and the named business metrics.

Service name (`POWERTOOLS_SERVICE_NAME`) and metrics namespace (`POWERTOOLS_METRICS_NAMESPACE`, OnAir in
template.yaml's Globals) come from the environment Lambda gives the function. The namespace falls back to
OnAir so that code run outside a function (tests, scripts) never fails to flush for the lack of one.

Metrics are CloudWatch embedded metric format (EMF) documents printed to stdout; the handlers'
`@metrics.log_metrics` flushes the ones added during an invocation. The use cases record what happened
through the Metrics port (onair.ports), which PowertoolsMetrics implements here.

| metric | unit | dimensions |
|---|---|---|
| `ImportsAccepted` | Count | service |
| `ImportsRejected` | Count | service; and service + code (one document per rejection) |
| `RunsSucceeded`, `RunsFailed` | Count | service |
| `RunDuration` | Seconds | service (one value per finished run: started → finished) |
| `RuleBreaks` | Count | service (one value per succeeded run: its rotation-rule breaks) |
"""

from __future__ import annotations

import logging
import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"  # the variable Powertools reads
DEFAULT_NAMESPACE = "OnAir"

logger = Logger()
# What every function calls through: boto3 (botocore). Tracer() alone patches every library X-Ray
# supports that is installed (sqlite3, requests, …): imports at cold start for calls this code never
# makes. The live media fetcher's http.client is patched when a run first needs it (onair.bootstrap).
tracer = Tracer(patch_modules=("botocore",))
metrics = Metrics(namespace=os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE)
# Reads (GET /health, /runs/…) record no metric: an empty flush is normal here, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


# The use cases log through the standard library (they import no Powertools), to children of the "onair"
# logger: it gets this one's handler and JSON format, so their records carry the invocation's keys too.
logging.getLogger("onair")
copy_config_to_registered_loggers(source_logger=logger, include={"onair"})


class PowertoolsMetrics:
    """The Metrics port (onair.ports) as EMF through Powertools Metrics."""

    def import_accepted(self) -> None:
        metrics.add_metric(name="ImportsAccepted", unit=MetricUnit.Count, value=1)

    def import_rejected(self, code: str) -> None:
        """The total goes with the invocation's other metrics; the per-code count is a document of its
        own, because a dimension added to `metrics` would apply to every metric of the flush."""
        metrics.add_metric(name="ImportsRejected", unit=MetricUnit.Count, value=1)
        with single_metric(
            name="ImportsRejected",
            unit=MetricUnit.Count,
            value=1,
            namespace=metrics.namespace,
            default_dimensions=metrics.default_dimensions,
        ) as metric:
            if metrics.service:
                metric.add_dimension(name="service", value=str(metrics.service))
            metric.add_dimension(name="code", value=code)

    def run_finished(self, *, succeeded: bool, seconds: float | None, rule_breaks: int | None) -> None:
        name = "RunsSucceeded" if succeeded else "RunsFailed"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        if seconds is not None:
            metrics.add_metric(name="RunDuration", unit=MetricUnit.Seconds, value=round(seconds, 3))
        if rule_breaks is not None:
            metrics.add_metric(name="RuleBreaks", unit=MetricUnit.Count, value=rule_breaks)

"""What operators see of every service: readiness, Prometheus metrics, JSON logs.

:func:`instrument` adds to a service's app

* ``GET /ready``: 200 when the service's database answers and its feeds (the Kafka consumers
  of its replicas or projections) are running, 503 otherwise (and while the service starts).
  It also tells how far the feeds are behind (``events_behind``; ``seconds_behind`` where the
  service can tell). Lag alone does not make a service unready: a service catching up after a
  rebuild answers correctly for what it has applied, and says how far behind it is.
* ``GET /metrics``: Prometheus text: requests by route and status, their latency, and gauges
  read at scrape time (ready, feed lag, the store's head position).
* A middleware that gives every request a correlation id (the client's ``X-Correlation-Id``,
  or a new UUID that the command then records on its events), binds it to the log context and
  returns it in the response, and logs one ``http.request`` line per request.

``/health``, ``/ready`` and ``/metrics`` carry nothing personal and must stay reachable
without sign-in (load balancers and Prometheus do not sign in).

The wired service (``app.state.<name>``, what the composition root returned) is probed for
what it has: ``store`` (an event store: its head position is queried), ``ping()`` (a service
without a store of its own checks its database), ``feed`` (a :class:`~eventspine.replica.Feed`),
``lag_seconds()``, and ``dependencies()`` (a process without a database of its own, such as
the staff frontend, names what it needs and whether each answers: ``{"roster": "ok", ...}``).
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from eventspine.config import LogFormat, Settings

log = structlog.get_logger(__name__)

CORRELATION_HEADER = "x-correlation-id"
OPERATIONS_PATHS = ("/health", "/ready", "/metrics")
"""Paths that answer without sign-in."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Probe:
    """Readiness of one wired service, found on ``app.state`` once the lifespan opened it."""

    def __init__(self, app: FastAPI, service: str) -> None:
        self.app = app
        self.service = service

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """Whether the service is ready, and what it found (for /ready and the gauges)."""
        wired = getattr(self.app.state, self.service, None)
        if wired is None:
            return False, {"status": "starting", "service": self.service, "checks": {}}
        checks: dict[str, str] = {}
        figures: dict[str, Any] = {}
        store = getattr(wired, "store", None)
        ping = getattr(wired, "ping", None)
        dependencies = getattr(wired, "dependencies", None)
        if dependencies is not None:
            checks.update(await dependencies())
        else:
            try:
                if store is not None:
                    figures["head_position"] = await store.head_position()
                elif ping is not None:
                    await ping()
                checks["database"] = "ok"
            except Exception as exc:  # anything the driver raises means: not reachable now
                checks["database"] = f"unreachable: {type(exc).__name__}: {exc}"
        feed = getattr(wired, "feed", None)
        if feed is not None:
            try:
                figures["events_behind"] = await feed.behind()
                checks["feed"] = "ok"
            except Exception as exc:  # a dead consumer raises its error here
                checks["feed"] = f"failed: {type(exc).__name__}: {exc}"
        lag_seconds = getattr(wired, "lag_seconds", None)
        if lag_seconds is not None and checks.get("feed") == "ok":
            figures["seconds_behind"] = round(await lag_seconds(), 3)
        ready = all(value == "ok" for value in checks.values())
        status = "ok" if ready else "unavailable"
        return ready, {"status": status, "service": self.service, "checks": checks, **figures}


class _ProbeCollector(Collector):
    """Gauges read at scrape time from the last readiness check of this scrape."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.report: dict[str, Any] = {}
        self.ready = False

    def collect(self) -> Iterable[GaugeMetricFamily]:
        gauges = [
            ("sanlian_ready", "1 when the service's dependencies answer", float(self.ready)),
        ]
        for key, name, help_text in (
            ("events_behind", "sanlian_feed_lag_events", "events on the topics not yet applied"),
            (
                "seconds_behind",
                "sanlian_feed_lag_seconds",
                "age of the newest applied event while behind",
            ),
            ("head_position", "sanlian_store_head_position", "highest position in the store"),
        ):
            if key in self.report:
                gauges.append((name, help_text, float(self.report[key])))
        for name, help_text, value in gauges:
            family = GaugeMetricFamily(name, help_text, labels=["service"])
            family.add_metric([self.service], value)
            yield family


class _Telemetry:
    """ASGI middleware: correlation id, request metrics and one log line per request."""

    def __init__(self, app: ASGIApp, service: str, registry: CollectorRegistry) -> None:
        self.app = app
        self.service = service
        self.requests = Counter(
            "sanlian_http_requests",
            "HTTP requests answered",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "sanlian_http_request_duration_seconds",
            "time to answer an HTTP request",
            ["service", "method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = _correlation_id(scope)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (CORRELATION_HEADER.encode(), correlation_id.encode()),
                ]
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = getattr(scope.get("route"), "path", "unmatched")
                method = scope["method"]
                self.requests.labels(self.service, method, route, str(status)).inc()
                self.latency.labels(self.service, method, route).observe(seconds)
                if route not in OPERATIONS_PATHS:  # probes every few seconds are noise
                    log.info(
                        "http.request",
                        method=method,
                        path=scope["path"],
                        route=route,
                        status=status,
                        ms=round(seconds * 1000, 1),
                    )


def _correlation_id(scope: Scope) -> str:
    """The request's correlation id; one is added to the headers when the client sent none,
    so the command records the same id on its events as the logs carry."""
    for name, value in scope["headers"]:
        if name == CORRELATION_HEADER.encode():
            return str(value.decode("latin-1"))
    created = str(uuid.uuid4())
    scope["headers"] = [*scope["headers"], (CORRELATION_HEADER.encode(), created.encode())]
    return created


def instrument(app: FastAPI, service: str) -> None:
    """Add /ready, /metrics, correlation ids and request metrics to a service's app, and
    configure the process's logging when ``SANLIAN_LOG_FORMAT`` asks for it."""
    log_format = Settings().log_format
    if log_format is not None:
        configure_logging(service, log_format)
    registry = CollectorRegistry()
    probe = Probe(app, service)
    gauges = _ProbeCollector(service)
    registry.register(gauges)
    app.add_middleware(_Telemetry, service=service, registry=registry)

    @app.get("/ready", tags=["operations"], responses={503: {"description": "not ready"}})
    async def ready() -> JSONResponse:
        """Readiness: the database answers and the feeds run (503 otherwise); feed lag."""
        ok, report = await probe.check()
        return JSONResponse(report, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics: requests, latency, readiness, feed lag, store head."""
        gauges.ready, gauges.report = await probe.check()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def configure_logging(process: str, log_format: LogFormat, level: str = "INFO") -> None:
    """Send structlog's and the standard library's records (uvicorn, aiokafka) to standard
    output, as one JSON object per line (``json``, for log collectors) or readable text.

    Every line carries the process name, the level, a UTC timestamp and the context bound to
    the request (its correlation id). Call once, when the process starts.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_process(process),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # uvicorn installs its own handlers; route its records through ours instead. Its access
    # log is replaced by the middleware's http.request line (which has the correlation id).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True


def _add_process(process: str) -> Callable[[Any, str, MutableMapping[str, Any]], Any]:
    def add(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("process", process)
        return event

    return add

"""What operators watch: a request id on every log line (also carried into Celery tasks), JSON log lines,
error reports to Sentry with personal data scrubbed, and Prometheus metrics behind a token."""

import contextvars
import hmac
import logging
import os
import re
import time
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("chorus.request")

# --- request id ----------------------------------------------------------------------------------------

REQUEST_ID_HEADER = "request_id"  # Celery message header
_request_id = contextvars.ContextVar("request_id", default="-")
# A proxy's id is reused when it looks like one (no spaces, quotes or control characters reach the logs).
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or task's, or "-") on every record, for the formatters."""

    def filter(self, record):
        record.request_id = _request_id.get()
        return True


class RequestIdMiddleware:
    """Gives every request an id (the proxy's X-Request-ID when valid, else a new one), logs one JSON-able line
    per request with its duration, and sends the id back so a user's report can be matched to the logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        request.request_id = request_id
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            match = getattr(request, "resolver_match", None)
            access_logger.info(
                "%s %s %s",
                request.method,
                match.view_name if match else "-",
                response.status_code,
                extra={
                    "method": request.method,
                    "view": match.view_name if match else None,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _request_id.reset(token)


@before_task_publish.connect
def _send_request_id_with_task(headers=None, **kwargs):
    if headers is not None and _request_id.get() != "-":
        headers.setdefault(REQUEST_ID_HEADER, _request_id.get())


@task_prerun.connect
def _adopt_request_id_in_task(task=None, **kwargs):
    task._chorus_request_id_token = _request_id.set(task.request.get(REQUEST_ID_HEADER) or _request_id.get())


@task_postrun.connect
def _forget_request_id_after_task(task=None, **kwargs):
    token = getattr(task, "_chorus_request_id_token", None)
    if token is not None:
        _request_id.reset(token)
        task._chorus_request_id_token = None


# --- Sentry --------------------------------------------------------------------------------------------

SCRUBBED = "[retiré]"
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# File names may hold spaces (« RIB GAEC Martin.pdf »): up to three words before the extension go too; scrubbing
# a word too many is the safe side.
_FILE_NAME = re.compile(r"(?:[\w-]+ ){0,3}[\w.-]*\.(?:pdf|png|jpe?g|csv|xlsx|xls|zip|ods)\b", re.IGNORECASE)
# Whole values dropped: what a user typed or uploaded, and who they are.
_DROPPED_KEYS = {"data", "cookies", "query_string", "user", "vars", "body"}


def _scrub(value):
    if isinstance(value, str):
        value = _IBAN.sub(SCRUBBED, value)
        value = _EMAIL.sub(SCRUBBED, value)
        return _FILE_NAME.sub(SCRUBBED, value)
    if isinstance(value, dict):
        return {
            key: SCRUBBED if key in _DROPPED_KEYS and value[key] else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def scrub_event(event, hint=None):
    """Sentry's before_send: no IBAN, e-mail address or file name leaves the portal, wherever it hides
    (message, exception values, breadcrumbs, headers, tags); form data, cookies and user details are dropped."""
    return _scrub(event)


def sentry_init(dsn: str, *, environment: str, transport=None) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Personal data is off by default (send_default_pii); a frame's locals may hold an IBAN or an upload.
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        traces_sample_rate=0.0,
        transport=transport,
    )


# --- Prometheus ----------------------------------------------------------------------------------------


class PortalCollector:
    """Values read at scrape time: outbox mails waiting or failed, and the Celery queue's length."""

    def collect(self):
        from chorus.outbox.models import OutboxMail

        outbox = GaugeMetricFamily("chorus_outbox_mails", "Outbox mails by status", labels=["status"])
        counts = dict(
            OutboxMail.objects.filter(status__in=["pending", "failed"])
            .values_list("status")
            .annotate(n=Count("id"))
        )
        for status in ("pending", "failed"):
            outbox.add_metric([status], counts.get(status, 0))
        yield outbox
        queue = GaugeMetricFamily(
            "chorus_celery_queue_length", "Tasks waiting in the Celery queue (-1: broker unreachable)"
        )
        queue.add_metric([], self._queue_length())
        yield queue

    @staticmethod
    def _queue_length() -> int:
        if not settings.REDIS_URL:
            return 0  # embedded mode: tasks run inline
        import redis

        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
            return client.llen(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery"))
        except redis.RedisError:
            return -1


@login_not_required
@require_safe
@never_cache
def metrics(request):
    """Prometheus metrics, for the scraper only: `Authorization: Bearer <METRICS_TOKEN>`. Without a token
    configured, or with a wrong one, the page does not exist (404: nothing to probe)."""
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(given.encode(), token.encode()):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # gunicorn's workers each count their own requests; add them all up.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    portal = CollectorRegistry()
    portal.register(PortalCollector())
    return HttpResponse(generate_latest(registry) + generate_latest(portal), content_type=CONTENT_TYPE_LATEST)

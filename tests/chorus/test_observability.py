"""Request ids, JSON log lines, Sentry scrubbing and the Prometheus endpoint."""

import io
import json
import logging
import os
import time

import pytest
import sentry_sdk
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.db import transaction
from pythonjsonlogger.json import JsonFormatter
from sentry_sdk.transport import Transport

from chorus import celery_app, observability
from chorus.outbox.models import OutboxMail
from chorus.outbox.services import mail_queue
from tests.chorus.test_settings import run_manage

pytestmark = pytest.mark.django_db

METRICS = "/metriques"


@pytest.fixture
def json_log(settings):
    """The root logger's lines, formatted as configured for production (settings.LOGGING's json formatter)."""
    config = settings.LOGGING["formatters"]["json"]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(observability.RequestIdFilter())
    handler.setFormatter(JsonFormatter(config["fmt"], rename_fields=config["rename_fields"]))
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)


# --- request id and JSON lines -------------------------------------------------------------------------


def test_every_response_carries_a_new_request_id(client):
    first, second = client.get("/sante/vivant"), client.get("/sante/vivant")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [("proxy-id-1234abcd", True), ("bad id with spaces", False), ("x" * 65, False), ('a"b\nc{}', False)],
)
def test_a_proxys_request_id_is_reused_only_when_it_looks_like_one(client, given, kept):
    response = client.get("/sante/vivant", headers={"X-Request-ID": given})
    assert (response["X-Request-ID"] == given) is kept


def test_each_request_logs_one_json_line_with_its_id_view_and_status(client, json_log):
    client.get("/", headers={"X-Request-ID": "req-0123456789"})
    lines = [line for line in json_log() if line["logger"] == "chorus.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-0123456789"
    assert (line["view"], line["status"], line["method"], line["level"]) == ("home", 200, "GET", "INFO")
    assert line["duration_ms"] >= 0
    assert "time" in line


def test_production_logs_are_json_lines_with_a_request_id():
    result = run_manage(
        "shell",
        "-c",
        "import logging; logging.getLogger('chorus.test').warning('bonjour')",
        DJANGO_ENV="dev",
        LOG_FORMAT="json",
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line == {
        **line,
        "message": "bonjour",
        "logger": "chorus.test",
        "level": "WARNING",
        "request_id": "-",
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set: no Redis for a real worker")
def test_the_request_id_travels_to_the_celery_task_in_its_headers(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    seen = []

    def record(task=None, **kwargs):
        seen.append((task.name, task.request.get("request_id"), observability.current_request_id()))

    task_prerun.connect(record)
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    token = observability._request_id.set("req-from-the-web-42")
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            with transaction.atomic():
                queued = mail_queue(
                    to=["cuma@example.fr"],
                    template="tests/emails/sample",
                    context={"name": "P", "number": "1"},
                )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not seen:
                time.sleep(0.1)
    finally:
        observability._request_id.reset(token)
        celery_app.conf.task_always_eager = True
        task_prerun.disconnect(record)
    queued.refresh_from_db()
    assert queued.status == OutboxMail.Status.SENT
    assert seen == [("chorus.outbox.tasks.outbox_mail_send", "req-from-the-web-42", "req-from-the-web-42")]


# --- Sentry --------------------------------------------------------------------------------------------


class CapturingTransport(Transport):
    """Sentry's edge of the world: keep the events instead of sending them over HTTP."""

    def __init__(self, options=None):
        super().__init__(options)
        self.events = []

    def capture_envelope(self, envelope):
        event = envelope.get_event()
        if event is not None:
            self.events.append(event)


@pytest.fixture
def sentry_events():
    transport = CapturingTransport()
    observability.sentry_init("https://public@sentry.example/1", environment="test", transport=transport)
    yield transport.events
    sentry_sdk.get_client().close()
    sentry_sdk.init()


PERSONAL = [
    "FR7630006000011234567890189",
    "FR76 3000 6000 0112 3456 7890 189",
    "jeanne.martin@example.fr",
    "RIB GAEC.pdf",
]


def test_sentry_events_carry_no_iban_email_or_file_name(sentry_events):
    logging.getLogger("structures").warning(
        "Upload by jeanne.martin@example.fr of RIB GAEC.pdf for FR76 3000 6000 0112 3456 7890 189"
    )
    try:
        raise ValueError(
            "IBAN FR7630006000011234567890189 refused for jeanne.martin@example.fr (RIB GAEC.pdf)"
        )
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    assert len(sentry_events) == 1
    sent = json.dumps(sentry_events[0], ensure_ascii=False)
    for value in PERSONAL:
        assert value not in sent
    assert "IBAN [retiré] refused for [retiré] ([retiré])" in sent  # the rest of the message stays useful
    assert "Upload by [retiré] [retiré] for [retiré]" in sent  # the breadcrumb from the log line


def test_sentry_drops_form_data_cookies_and_user_details():
    event = {
        "request": {"url": "/organisation/", "data": {"iban": "x"}, "cookies": {"sessionid": "s"}},
        "user": {"email": "a@b.fr", "id": 3},
        "extra": {"note": "pièce : facture-mars.PDF"},
    }
    scrubbed = observability.scrub_event(event)
    assert scrubbed["request"] == {"url": "/organisation/", "data": "[retiré]", "cookies": "[retiré]"}
    assert scrubbed["user"] == "[retiré]"
    assert scrubbed["extra"]["note"] == "pièce : [retiré]"


def test_without_a_dsn_nothing_is_reported(settings):
    assert settings.SENTRY_DSN == ""
    assert sentry_sdk.get_client().transport is None  # nothing can be sent anywhere


# --- Prometheus ----------------------------------------------------------------------------------------


def test_metrics_do_not_exist_without_the_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get(METRICS).status_code == 404
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    assert client.get(METRICS).status_code == 404
    assert client.get(METRICS, headers={"Authorization": "Bearer wrong"}).status_code == 404


def test_metrics_count_requests_by_view_and_status_and_read_the_outbox(client, settings):
    settings.METRICS_TOKEN = "scrape-token-0123456789"
    client.get("/")
    client.get("/sante/vivant")
    OutboxMail.objects.create(recipients=["a@example.fr"], subject="s", body_text="b", template="t")
    OutboxMail.objects.create(
        recipients=["b@example.fr"], subject="s", body_text="b", template="t", status="failed"
    )
    response = client.get(METRICS, headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert response.status_code == 200
    text = response.content.decode()
    assert (
        'django_http_responses_total_by_status_view_method_total{method="GET",status="200",view="home"}'
        in text
    )
    assert (
        'django_http_requests_latency_seconds_by_view_method_bucket{le="0.25",method="GET",view="health_live"}'
        in text
    )
    assert 'chorus_outbox_mails{status="pending"} 1.0' in text
    assert 'chorus_outbox_mails{status="failed"} 1.0' in text
    assert "chorus_celery_queue_length" in text

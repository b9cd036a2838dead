"""Probes for load balancers and orchestrators: `/sante/vivant` (the process answers, no I/O) and `/sante/pret`
(the database, Redis and the file storage answer, and every migration is applied). Public, never rate-limited,
exempt from the HTTPS redirect (a balancer probes the container over plain HTTP), and cheap enough to poll
every second: one `SELECT 1`, one Redis PING, one HEAD on the bucket (or one stat of the folder); the
migration check reads the migration files only until it has once found them all applied.

Answers name the failing part and nothing else: no host, no credentials, no exception text."""

import logging
import time

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from chorus.storage import storage_check

logger = logging.getLogger(__name__)

_state = {"migrations_applied": False, "redis": None}


def _database() -> None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    if not settings.REDIS_URL:
        return  # embedded mode: local memory cache, inline tasks
    # One client (and connection pool) per process, kept between probes.
    url, client = _state["redis"] or (None, None)
    if url != settings.REDIS_URL:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        _state["redis"] = (settings.REDIS_URL, client)
    client.ping()


def _migrations() -> None:
    if _state["migrations_applied"]:
        return  # once applied they stay applied for this code; a deploy with new ones restarts the process
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise RuntimeError("unapplied migrations")
    _state["migrations_applied"] = True


# Name shown in the answer → check; each raises when its part is not ready.
CHECKS = {
    "base_de_donnees": _database,
    "redis": _redis,
    "stockage": storage_check,
    "migrations": _migrations,
}


@login_not_required
@require_safe
@never_cache
def live(request):
    return JsonResponse({"statut": "vivant"})


@login_not_required
@require_safe
@never_cache
def ready(request):
    components, failing = {}, []
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception as exc:
            # The log (operators only) says why; the answer only says which part.
            logger.warning("Readiness check %s failed: %s", name, type(exc).__name__)
            components[name] = "en panne"
            failing.append(name)
        else:
            components[name] = "ok"
        components[name + "_ms"] = round((time.monotonic() - started) * 1000, 1)
    body = {"statut": "pret" if not failing else "indisponible", "composants": components}
    if failing:
        body["en_panne"] = failing
    return JsonResponse(body, status=503 if failing else 200)

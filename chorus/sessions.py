"""Sessions in Redis in front of PostgreSQL (SESSION_BACKEND=cached_db) that survive a Redis outage.

Django's cached_db already saves through the database when the cache fails, but its `load()` (refilling
the cache after a miss), `exists()` (asked when a session is created, at every sign-in) and `delete()`
(sign-out, and the key change at sign-in) let the cache's error through: with Redis down every signed-in
page failed. Here they fall back to the database too, so a Redis outage only costs the cache (and the cache
client's one-second timeout, when Redis does not even refuse the connection)."""

import logging

from django.contrib.sessions.backends import cached_db, db

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            logger.warning("Session cache unreachable; reading the session from the database.")
            data = None
        if data is not None:
            return data
        row = self._get_session_from_db()
        if not row:
            return {}
        data = self.decode(row.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=row.expire_date))
        except Exception:
            logger.warning("Session cache unreachable; the session is not cached.")
        return data

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception:
            logger.warning("Session cache unreachable; checking the session key in the database only.")
        return db.SessionStore.exists(self, session_key)

    def delete(self, session_key=None):
        try:
            super().delete(session_key)
        except Exception:
            # The row is gone (deleted first, in the database); only the cached copy may remain, and it
            # expires with the session. Sign-out must not fail because Redis is down.
            logger.warning("Session cache unreachable; the session was deleted from the database only.")

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng flite sox \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 chorus

COPY pyproject.toml README.md ./
RUN pip install .
COPY . .
# Static files are collected at build time with throw-away values: production settings refuse to load
# without them, and none of them ends up in the image's runtime environment.
RUN DJANGO_ENV=production SECRET_KEY=build-only-key-not-used-at-runtime-0123456789abcdefghij \
    REDIS_URL=redis://build:6379/0 python manage.py collectstatic --noinput \
    && mkdir -p /app/var/private && chown -R chorus /app/var

USER chorus
EXPOSE 8000
CMD ["gunicorn", "chorus.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

# The production image: one image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 10001 tandem
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
# collectstatic needs settings to import, not real services: throwaway values for the build step only.
RUN DJANGO_SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/.local && chown -R tandem:tandem /app/.local
USER tandem
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]

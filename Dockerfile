# syntax=docker/dockerfile:1
# The socialpulse image: `worker` by default; `init` (topics + migrations) and `dashboard` in docker-compose.yml run
# other commands of the same image. No Java and no chdb-core: Kafka and ClickHouse are external here.
#
#   docker build -t socialpulse:local .
#   docker run --rm socialpulse:local --help

# --- build: install the package and its pinned dependencies into a virtualenv ------------------------------------
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY agents ./agents
COPY schemas ./schemas

# Runtime dependencies only (no `embedded`/`dev` extras). The JSON Schemas and ClickHouse migrations are read from
# `<site-packages>/schemas` (pipeline/adapters/clickhouse/migrations.py: MIGRATIONS_DIR, pipeline/contract/jsonschema.py: SCHEMA_DIR), which a
# wheel does not carry: copy them to where the installed code looks (-I: not the source tree in the working
# directory), and fail the build if it still finds no migration or cannot load the shipped complaint model.
RUN python -m venv /opt/socialpulse \
 && /opt/socialpulse/bin/pip install . \
 && target="$(/opt/socialpulse/bin/python -I -c 'from pipeline.adapters.clickhouse.migrations import MIGRATIONS_DIR; print(MIGRATIONS_DIR.parent)')" \
 && mkdir -p "$target" \
 && cp -r schemas/. "$target/" \
 && /opt/socialpulse/bin/python -I -c 'from pipeline.adapters.clickhouse.migrations import migration_files; assert migration_files(), "no migrations"' \
 && /opt/socialpulse/bin/python -I -c 'from pipeline.domain.complaints.model import load_default; load_default()' \
 && /opt/socialpulse/bin/socialpulse --help >/dev/null

# --- runtime ---------------------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PATH=/opt/socialpulse/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SOCIALPULSE_DATA_DIR=/var/lib/socialpulse \
    SOCIALPULSE_WORKER_HOST=0.0.0.0 \
    SOCIALPULSE_WORKER_PORT=6066

RUN groupadd --system --gid 10001 socialpulse \
 && useradd --system --uid 10001 --gid socialpulse --home-dir /var/lib/socialpulse --create-home \
            --shell /usr/sbin/nologin socialpulse

COPY --from=build /opt/socialpulse /opt/socialpulse

USER socialpulse
WORKDIR /var/lib/socialpulse

# Worker web server: /health (200 once the identity table is loaded, else 503) and /metrics (Prometheus).
EXPOSE 6066
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:6066/health', timeout=4)"]

ENTRYPOINT ["socialpulse"]
CMD ["worker"]

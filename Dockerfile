# Session Observatory: the API and the dashboard in one small image.
#   docker compose up          (PostgreSQL 16 + a one-shot migrate + this image; docker-compose.yml)
# Three stages: the dashboard (Node), the wheel and its virtualenv (pip), and the runtime, which
# gets only the finished virtualenv: no Node, no compiler, no build frontend, no sources.

# --- the dashboard (static files) ---------------------------------------------------------
FROM node:20-slim AS dashboard
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm ci --no-audit --no-fund
# codegen reads the API's schema from the repository root
COPY schema.graphql ./
COPY frontend/ frontend/
RUN cd frontend && npm run build

# --- the wheel (dashboard and migrations inside) and a virtualenv with it --------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY backend/ backend/
COPY migrations/ migrations/
COPY --from=dashboard /src/frontend/dist frontend/dist
# OBSERVATORY_REQUIRE_DASHBOARD: fail here rather than ship an image without the dashboard.
RUN OBSERVATORY_REQUIRE_DASHBOARD=1 pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/observatory \
    && /opt/observatory/bin/pip install /wheels/*.whl \
    && /opt/observatory/bin/pip uninstall -y pip

# --- the service ----------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/observatory/bin:$PATH
RUN useradd --system --uid 10001 --create-home --home-dir /home/observatory observatory
COPY --from=build /opt/observatory /opt/observatory

USER observatory
WORKDIR /home/observatory
ENV OBSERVATORY_HOST=0.0.0.0 \
    OBSERVATORY_PORT=8000 \
    OBSERVATORY_DATA_DIR=/home/observatory/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# Applies the migrations, then serves; set OBSERVATORY_DATABASE_URL. docker-compose.yml runs
# `observatory migrate` once beforehand and the API with --no-migrate.
CMD ["observatory", "serve"]

# Session Observatory: the API and the dashboard in one image.
#   docker compose up          (PostgreSQL 16 + this image; see docker-compose.yml)

# --- the dashboard (static files) ---------------------------------------------------------
FROM node:20-slim AS dashboard
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm ci --no-audit --no-fund
# codegen reads the API's schema from the repository root
COPY schema.graphql ./
COPY frontend/ frontend/
RUN cd frontend && npm run build

# --- the service ----------------------------------------------------------------------------
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY backend/ backend/
COPY migrations/ migrations/
# Editable on purpose: `observatory migrate` finds alembic.ini and migrations/ beside the
# package, and the dashboard at /app/frontend/dist, exactly as in a checkout.
RUN pip install -e . && useradd --system --uid 10001 --home-dir /app observatory
COPY --from=dashboard /src/frontend/dist frontend/dist

USER observatory
ENV OBSERVATORY_HOST=0.0.0.0 \
    OBSERVATORY_PORT=8000 \
    OBSERVATORY_DATA_DIR=/tmp/observatory
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# serve applies the migrations, then serves; set OBSERVATORY_DATABASE_URL (compose does).
CMD ["observatory", "serve"]

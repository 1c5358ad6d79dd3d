# syntax=docker/dockerfile:1
#
# The collector sidecar image.
#
#   docker build -t ghcr.io/example/collector:0.1.0 --build-arg VERSION=0.1.0 \
#     --build-arg REVISION="$(git rev-parse HEAD)" .
#
# The build stage compiles the redactor's C pre-scan, turns the project and every
# dependency (from requirements/runtime.lock) into wheels, installs only those wheels
# (--no-index) into a virtualenv, then removes pip and setuptools from it; the runtime
# stage copies that venv alone: no compiler, no build tools, no pip, no cache.
# The runtime needs no shell: ENTRYPOINT, CMD and HEALTHCHECK use the exec form. The root
# filesystem can be mounted read-only: the only path the process writes is the checkpoint
# directory (/var/lib/collector, a volume in Kubernetes).
# The tests run on Python 3.11, so the image does too. Bump the base deliberately (and
# re-run the tests); pin it by digest in your registry mirror if your policy asks for it.
FROM python:3.11.11-slim-bookworm AS base

FROM base AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# A C compiler for the redaction pre-scan's extension (collector/redact/_prefilter.c); the
# runtime stage gets the built wheel only. Unpinned: Debian's stable gcc of the base image.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
# Every dependency, and the build backend, comes from the locks (exact versions, hashes):
# a release made after the lock changes nothing in the image.
COPY requirements/runtime.lock requirements/build.lock ./requirements/
COPY pyproject.toml README.md ./
COPY collector ./collector
RUN pip install --require-hashes --no-deps -r requirements/build.lock \
 && pip wheel --require-hashes --no-deps --wheel-dir /wheels -r requirements/runtime.lock \
 && pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
 && python -m venv /opt/collector \
 && /opt/collector/bin/pip install --no-index --no-deps /wheels/*.whl \
 && /opt/collector/bin/pip uninstall --yes pip setuptools \
 && /opt/collector/bin/python -m compileall -q /opt/collector

FROM base
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="collector" \
      org.opencontainers.image.description="Log sidecar for payment services: tail, redact card data, ship over Fluent Forward with acks, Prometheus metrics." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/example/collector" \
      org.opencontainers.image.documentation="https://github.com/example/collector/blob/main/docs/deploy.md"

# A fixed uid/gid so Kubernetes' runAsUser/fsGroup and this image agree (k8s/ uses 10001).
RUN groupadd --system --gid 10001 collector \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin collector \
 && mkdir -p /var/lib/collector /etc/collector \
 && chown 10001:10001 /var/lib/collector

COPY --from=build /opt/collector /opt/collector
ENV PATH=/opt/collector/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001
WORKDIR /var/lib/collector
VOLUME ["/var/lib/collector"]
EXPOSE 2020

# Docker only (Kubernetes uses the probes in k8s/): the same /healthz the liveness probe reads.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:2020/healthz', timeout=2).status != 200)"]

ENTRYPOINT ["collector", "run"]
CMD ["--config", "/etc/collector/collector.yaml"]

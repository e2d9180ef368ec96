# Taskyard's image: the API (`serve`), the worker and the one-shot commands, with the built web
# client. Build the client first (`make web`), then: podman build -t taskyard .
#   BASE: the official python:3.12-slim by default; any Debian-like image with python3 and
#   venv works (the tests pass one built here from Debian, deploy/images/python).
ARG BASE=python:3.12-slim

FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/taskyard
WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY src ./src
# A wheel, not an editable install: the image carries no source tree, only the package.
RUN /opt/taskyard/bin/pip install --no-compile -c constraints.txt . \
    && /opt/taskyard/bin/python -c "import sys; from taskyard.config import DEFAULT_WEB_DIR as d; sys.exit(0 if (d / 'index.html').is_file() else 'the web client is not built: run make web first')"

FROM ${BASE}
RUN groupadd --system --gid 10001 taskyard \
    && useradd --system --uid 10001 --gid taskyard --home-dir /nonexistent --shell /usr/sbin/nologin taskyard
COPY --from=build /opt/taskyard /opt/taskyard
ENV PATH=/opt/taskyard/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TASKYARD_LOG_FORMAT=json
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"]
ENTRYPOINT ["taskyard"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

#!/usr/bin/env bash
# Points `docker` at a Docker engine for CI (.ci/run): prints `eval`-able lines (and installs
# Debian's docker-compose when no Compose is there).
#
#   eval "$(scripts/ci-engine.sh)"
#
# When `docker info` already answers (a developer's Docker, a CI runner's), nothing changes.
# Otherwise this machine's private engine is brought up with the shared tool beside the
# clone, ../shared/tools/container-engine (or $CONTAINER_ENGINE_TOOL): it starts dockerd,
# makes the python:3.11-slim base image locally (no registry is reachable) and prints
# DOCKER_HOST and DOCKER_BUILDKIT=0 (see its header). Fails when neither is possible: CI
# must not quietly skip the container tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Compose, for the compose example (tests/container/test_compose_example.py runs the file with
# it; without it, with plain docker). Debian has only v1 (docker-compose 1.29).
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "ci-engine: installing Debian's docker-compose (v1)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >&2 \
            || echo "ci-engine: no docker-compose: the compose example runs with plain docker" >&2
    fi
fi
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    echo "# ci-engine: docker already answers (${DOCKER_HOST:-its default socket})"
    exit 0
fi
tool=${CONTAINER_ENGINE_TOOL:-../shared/tools/container-engine}
if [ -x "$tool" ]; then
    exec "$tool" up
fi
echo "ci-engine: no Docker engine answers and there is no $tool to start one" >&2
exit 1

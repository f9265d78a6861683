# The AICC Simulator as a docker-compose sidecar: `aicc-sim serve` on 0.0.0.0:8080.
#
#   docker build -t aicc-simulator:local .
#   docker run --rm -p 8080:8080 aicc-simulator:local
#
# Every setting is an AICC_SIM_* variable (docs/config.md), e.g.
#   -e AICC_SIM_CHANNELS__0__CALLBACK_URL=http://webchat:9000/aicc
# or a mounted file:
#   -v ./aicc-sim.yaml:/config/aicc-sim.yaml:ro -e AICC_SIM_CONFIG=/config/aicc-sim.yaml
# The image sets AICC_SIM_HOST and AICC_SIM_PORT, and a variable wins over the file: change
# the port with -e AICC_SIM_PORT, not with the file's listen.port.
#
# No `# syntax=` line: the classic builder (DOCKER_BUILDKIT=0) and an offline BuildKit both
# build it without fetching a frontend image.
FROM python:3.11-slim

LABEL org.opencontainers.image.title="AICC Simulator" \
      org.opencontainers.image.description="A stand-in for the AICC side of Huawei Cloud CEC's web-chat channel, for testing integrations" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.documentation="README.md#docker-compose-sidecar"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A real (non-editable) install of the package alone: wheels only (nothing compiled, so no
# build tools), no test extras, no sources kept.
COPY pyproject.toml README.md /tmp/aicc-sim/
COPY simulator /tmp/aicc-sim/simulator
RUN pip install --only-binary=:all: /tmp/aicc-sim && rm -rf /tmp/aicc-sim

# An unprivileged user; its home is the working directory (journal.path, scenario_dirs
# and other relative paths resolve there).
RUN groupadd --system --gid 10001 aicc \
    && useradd --system --uid 10001 --gid aicc --home-dir /var/lib/aicc-sim --create-home aicc
WORKDIR /var/lib/aicc-sim
USER 10001:10001

# Loopback is the simulator's default; in a container it must listen on every interface.
ENV AICC_SIM_HOST=0.0.0.0 \
    AICC_SIM_PORT=8080
EXPOSE 8080

# No curl or wget in the image: a Python probe of /__admin/health on the configured port.
# Probed every second so that the container is healthy about 1 s after start (the server
# answers within half a second). `--start-interval` (a fast probe during start-up only)
# would be the better tool, but it needs Docker Engine 25 and this Dockerfile must build on
# older engines too (Debian bookworm's docker.io is 20.10, whose builder refuses the flag).
HEALTHCHECK --interval=1s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-m", "simulator.healthcheck"]

CMD ["aicc-sim", "serve"]

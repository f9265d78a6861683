# syntax=docker/dockerfile:1
# The AICC Simulator as a docker-compose sidecar: `aicc-sim serve` on 0.0.0.0:8080.
#
#   docker build -t aicc-sim .
#   docker run --rm -p 8080:8080 aicc-sim
#
# Every setting is an AICC_SIM_* variable (docs/config.md), e.g.
#   -e AICC_SIM_CHANNELS__0__CALLBACK_URL=http://webchat:9000/aicc
# or a mounted file:
#   -v ./aicc-sim.yaml:/config/aicc-sim.yaml:ro -e AICC_SIM_CONFIG=/config/aicc-sim.yaml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A real (non-editable) install of the package alone: no test extras, no sources kept.
COPY pyproject.toml README.md /tmp/aicc-sim/
COPY simulator /tmp/aicc-sim/simulator
RUN pip install /tmp/aicc-sim && rm -rf /tmp/aicc-sim

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
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-m", "simulator.cli.healthcheck"]

CMD ["aicc-sim", "serve"]

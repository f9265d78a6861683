"""Counters for ``/__admin/metrics`` and their Prometheus text rendering."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from aiohttp import web

__all__ = ["METRICS", "Gauge", "Metrics", "render_prometheus"]

Gauge = tuple[str, str, float]  # name, help, value


class Metrics:
    """Request and delivery counters, by labels; cheap to bump on the hot path."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()  # (path, status)
        self.deliveries: Counter[str] = Counter()  # verdict
        self.faults: Counter[str] = Counter()  # fault rule id
        self.latency_sum = 0.0
        self.latency_count = 0
        #: connections closed because a request head took longer than limits.head_timeout
        self.slow_connections_closed = 0

    def slow_connection_closed(self) -> None:
        """Count one connection closed for a slow request head."""
        self.slow_connections_closed += 1

    def request(self, path: str, status: int, latency_ms: float) -> None:
        """Count one answered request."""
        self.requests[(path, status)] += 1
        self.latency_sum += latency_ms / 1000
        self.latency_count += 1

    def delivery(self, verdict: str) -> None:
        """Count one delivery attempt by verdict."""
        self.deliveries[verdict] += 1

    def fault(self, rule_id: str) -> None:
        """Count one call a fault rule acted on."""
        self.faults[rule_id] += 1

    def clear(self) -> None:
        """Reset every counter (admin reset)."""
        self.requests.clear()
        self.deliveries.clear()
        self.faults.clear()
        self.latency_sum = 0.0
        self.latency_count = 0


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_prometheus(metrics: Metrics, gauges: Iterable[Gauge]) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines = [
        "# HELP aicc_sim_requests_total Requests answered, by path and HTTP status.",
        "# TYPE aicc_sim_requests_total counter",
    ]
    for (path, status), count in sorted(metrics.requests.items()):
        lines.append(f'aicc_sim_requests_total{{path="{_escape(path)}",status="{status}"}} {count}')
    lines += [
        "# HELP aicc_sim_request_seconds Time spent answering requests.",
        "# TYPE aicc_sim_request_seconds summary",
        f"aicc_sim_request_seconds_sum {metrics.latency_sum:.6f}",
        f"aicc_sim_request_seconds_count {metrics.latency_count}",
        "# HELP aicc_sim_delivery_attempts_total Push delivery attempts, by verdict.",
        "# TYPE aicc_sim_delivery_attempts_total counter",
    ]
    for verdict, count in sorted(metrics.deliveries.items()):
        lines.append(f'aicc_sim_delivery_attempts_total{{verdict="{_escape(verdict)}"}} {count}')
    lines += [
        "# HELP aicc_sim_faults_fired_total Calls a fault rule acted on, by rule id.",
        "# TYPE aicc_sim_faults_fired_total counter",
    ]
    for rule, count in sorted(metrics.faults.items()):
        lines.append(f'aicc_sim_faults_fired_total{{rule="{_escape(rule)}"}} {count}')
    lines += [
        "# HELP aicc_sim_slow_connections_closed_total Connections closed because a request "
        "head took longer than limits.head_timeout.",
        "# TYPE aicc_sim_slow_connections_closed_total counter",
        f"aicc_sim_slow_connections_closed_total {metrics.slow_connections_closed}",
    ]
    for name, help_text, value in gauges:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
    return "\n".join(lines) + "\n"


#: the application's counters
METRICS = web.AppKey("metrics", Metrics)

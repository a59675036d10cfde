"""Settings from environment variables: one frozen object, read once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

TOPICS = {
    "supervision": "supervision.events",
    "training": "training.events",
    "committee": "committee.events",
    "achievement": "achievement.events",
    "directory": "directory.events",
    "monitoring": "monitoring.events",  # alerts raised and cleared (the projector does not read it)
}
DEAD_LETTER_TOPIC = "monitoring.deadletter"

DEFAULT_PORTS = {
    "monitoring": 8100,
    "supervision": 8101,
    "training": 8102,
    "committee": 8103,
    "achievement": 8104,
}


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to find its peers. Every field is set by an `ANP_*` variable."""

    mongo_uri: str = "mongodb://127.0.0.1:27117/?directConnection=true"
    mongo_server_selection_ms: int = 5000
    kafka_bootstrap: str = "127.0.0.1:19092"
    topic_partitions: int = 6
    # database names are prefixed so several deployments (or test runs) can share one server
    db_prefix: str = "anp"
    jwt_secret: str = "change-me-local-only-secret-at-least-32-bytes"
    jwt_public_key: str = (
        ""  # PEM; when set, RS256 tokens are accepted as well (several PEM blocks: any of them)
    )
    # during a key rotation: the old HS256 secret, still accepted for verification, never used to sign
    jwt_previous_secret: str = ""
    jwt_issuer: str = "anp-local"
    jwt_audience: str = "academic-network-platform"
    jwt_algorithms: tuple[str, ...] = ("HS256", "RS256")
    max_body_bytes: int = 256 * 1024
    max_page_size: int = 200
    # requests per caller (token subject, else client IP) per minute, shared by every worker and instance through
    # the document store; 0 disables the limit
    rate_limit_per_minute: int = 600
    # origins allowed cross-origin access (browser CORS); empty = none
    cors_origins: tuple[str, ...] = ()
    # kafka client tuning (INFRA.md): fast, robust failure detection on the local broker and in production
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000
    kafka_fetch_max_wait_ms: int = 20
    # kafka-python's default. Fewer, larger fetches when replaying a long log: noida-db's cost is per fetch
    # (a 160,000-record log took 2 s to read at 64 MB; at 1 MB it was not read in 9 minutes)
    kafka_max_partition_fetch_bytes: int = 1024 * 1024
    kafka_reconnect_backoff_max_ms: int = 1000
    kafka_max_block_ms: int = 5000
    relay_poll_interval_s: float = 0.05
    relay_batch_size: int = 500
    projector_group: str = "monitoring-projector"
    # "group": a consumer group (partitions spread over instances); "all": this instance reads every partition
    projector_assignment: str = "group"
    # records per projector batch (one transaction): each batch's finds, commit and position writes are paid
    # once, and changes to the same view merge. Small-mode bench, one instance: 1,626 events/s at 2,000,
    # 1,871 at 5,000, 1,862 at 10,000. A batch of 5,000 takes about 3 s only when the projector is behind
    projector_max_records: int = 5000
    # a committee with no meeting held for longer than this counts as inactive in the views
    committee_inactive_days: int = 90
    # a school result with fewer pupils tested is shown only inside that school and its ESA area
    achievement_min_tested: int = 5
    # how often the alert evaluator looks for changed views (seconds)
    alert_interval_s: float = 2.0
    # optional JSON files overriding the indicator targets and alert thresholds kept as data in the service
    indicator_targets_file: str = ""
    alert_rules_file: str = ""
    # the dashboard shows "projector lagging" above this many unprojected events
    dashboard_lag_warn: int = 100
    # demo runs only: the jsonl of demo users and tokens the sign-in page offers ("" in production)
    demo_tokens_file: str = ""
    # demo runs only: the host `deploy.local.demo_activity` and `deploy.seed` call; "{service}" in it becomes the
    # service's name (in docker compose each service is its own host)
    demo_api_host: str = "127.0.0.1"
    # containers: the file a worker's loop touches as its liveness signal ("" = none; deploy/healthcheck.py)
    heartbeat_file: str = ""
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))

    def db_name(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def to_env(self) -> dict[str, str]:
        """The `ANP_*` variables that make a child process see these settings (inverse of `from_env`)."""
        env = {
            "ANP_MONGO_URI": self.mongo_uri,
            "ANP_MONGO_SERVER_SELECTION_MS": str(self.mongo_server_selection_ms),
            "ANP_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "ANP_TOPIC_PARTITIONS": str(self.topic_partitions),
            "ANP_DB_PREFIX": self.db_prefix,
            "ANP_JWT_SECRET": self.jwt_secret,
            "ANP_JWT_PUBLIC_KEY": self.jwt_public_key,
            "ANP_JWT_PREVIOUS_SECRET": self.jwt_previous_secret,
            "ANP_JWT_ISSUER": self.jwt_issuer,
            "ANP_JWT_AUDIENCE": self.jwt_audience,
            "ANP_JWT_ALGORITHMS": ",".join(self.jwt_algorithms),
            "ANP_MAX_BODY_BYTES": str(self.max_body_bytes),
            "ANP_MAX_PAGE_SIZE": str(self.max_page_size),
            "ANP_RATE_LIMIT_PER_MINUTE": str(self.rate_limit_per_minute),
            "ANP_CORS_ORIGINS": ",".join(self.cors_origins),
            "ANP_KAFKA_SESSION_TIMEOUT_MS": str(self.kafka_session_timeout_ms),
            "ANP_KAFKA_HEARTBEAT_INTERVAL_MS": str(self.kafka_heartbeat_interval_ms),
            "ANP_KAFKA_FETCH_MAX_WAIT_MS": str(self.kafka_fetch_max_wait_ms),
            "ANP_KAFKA_MAX_PARTITION_FETCH_BYTES": str(self.kafka_max_partition_fetch_bytes),
            "ANP_KAFKA_RECONNECT_BACKOFF_MAX_MS": str(self.kafka_reconnect_backoff_max_ms),
            "ANP_KAFKA_MAX_BLOCK_MS": str(self.kafka_max_block_ms),
            "ANP_RELAY_POLL_INTERVAL_S": str(self.relay_poll_interval_s),
            "ANP_RELAY_BATCH_SIZE": str(self.relay_batch_size),
            "ANP_PROJECTOR_GROUP": self.projector_group,
            "ANP_PROJECTOR_ASSIGNMENT": self.projector_assignment,
            "ANP_PROJECTOR_MAX_RECORDS": str(self.projector_max_records),
            "ANP_COMMITTEE_INACTIVE_DAYS": str(self.committee_inactive_days),
            "ANP_ACHIEVEMENT_MIN_TESTED": str(self.achievement_min_tested),
            "ANP_ALERT_INTERVAL_S": str(self.alert_interval_s),
            "ANP_INDICATOR_TARGETS_FILE": self.indicator_targets_file,
            "ANP_DASHBOARD_LAG_WARN": str(self.dashboard_lag_warn),
            "ANP_DEMO_TOKENS_FILE": self.demo_tokens_file,
            "ANP_ALERT_RULES_FILE": self.alert_rules_file,
            "ANP_DEMO_API_HOST": self.demo_api_host,
            "ANP_HEARTBEAT_FILE": self.heartbeat_file,
        }
        env.update({f"ANP_{name.upper()}_PORT": str(port) for name, port in self.ports.items()})
        return env

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls) -> Settings:
        d = cls()
        return cls(
            mongo_uri=_env("ANP_MONGO_URI", d.mongo_uri),
            mongo_server_selection_ms=_int("ANP_MONGO_SERVER_SELECTION_MS", d.mongo_server_selection_ms),
            kafka_bootstrap=_env("ANP_KAFKA_BOOTSTRAP", d.kafka_bootstrap),
            topic_partitions=_int("ANP_TOPIC_PARTITIONS", d.topic_partitions),
            db_prefix=_env("ANP_DB_PREFIX", d.db_prefix),
            jwt_secret=_env("ANP_JWT_SECRET", d.jwt_secret),
            jwt_public_key=_env("ANP_JWT_PUBLIC_KEY", d.jwt_public_key),
            jwt_previous_secret=_env("ANP_JWT_PREVIOUS_SECRET", d.jwt_previous_secret),
            jwt_issuer=_env("ANP_JWT_ISSUER", d.jwt_issuer),
            jwt_audience=_env("ANP_JWT_AUDIENCE", d.jwt_audience),
            jwt_algorithms=tuple(_env("ANP_JWT_ALGORITHMS", ",".join(d.jwt_algorithms)).split(",")),
            max_body_bytes=_int("ANP_MAX_BODY_BYTES", d.max_body_bytes),
            max_page_size=_int("ANP_MAX_PAGE_SIZE", d.max_page_size),
            rate_limit_per_minute=_int("ANP_RATE_LIMIT_PER_MINUTE", d.rate_limit_per_minute),
            cors_origins=tuple(
                o.strip().rstrip("/")
                for o in _env("ANP_CORS_ORIGINS", ",".join(d.cors_origins)).split(",")
                if o.strip()
            ),
            kafka_session_timeout_ms=_int("ANP_KAFKA_SESSION_TIMEOUT_MS", d.kafka_session_timeout_ms),
            kafka_heartbeat_interval_ms=_int(
                "ANP_KAFKA_HEARTBEAT_INTERVAL_MS", d.kafka_heartbeat_interval_ms
            ),
            kafka_fetch_max_wait_ms=_int("ANP_KAFKA_FETCH_MAX_WAIT_MS", d.kafka_fetch_max_wait_ms),
            kafka_max_partition_fetch_bytes=_int(
                "ANP_KAFKA_MAX_PARTITION_FETCH_BYTES", d.kafka_max_partition_fetch_bytes
            ),
            kafka_reconnect_backoff_max_ms=_int(
                "ANP_KAFKA_RECONNECT_BACKOFF_MAX_MS", d.kafka_reconnect_backoff_max_ms
            ),
            kafka_max_block_ms=_int("ANP_KAFKA_MAX_BLOCK_MS", d.kafka_max_block_ms),
            relay_poll_interval_s=float(_env("ANP_RELAY_POLL_INTERVAL_S", str(d.relay_poll_interval_s))),
            relay_batch_size=_int("ANP_RELAY_BATCH_SIZE", d.relay_batch_size),
            projector_group=_env("ANP_PROJECTOR_GROUP", d.projector_group),
            projector_assignment=_env("ANP_PROJECTOR_ASSIGNMENT", d.projector_assignment),
            projector_max_records=_int("ANP_PROJECTOR_MAX_RECORDS", d.projector_max_records),
            committee_inactive_days=_int("ANP_COMMITTEE_INACTIVE_DAYS", d.committee_inactive_days),
            achievement_min_tested=_int("ANP_ACHIEVEMENT_MIN_TESTED", d.achievement_min_tested),
            alert_interval_s=float(_env("ANP_ALERT_INTERVAL_S", str(d.alert_interval_s))),
            indicator_targets_file=_env("ANP_INDICATOR_TARGETS_FILE", d.indicator_targets_file),
            alert_rules_file=_env("ANP_ALERT_RULES_FILE", d.alert_rules_file),
            dashboard_lag_warn=_int("ANP_DASHBOARD_LAG_WARN", d.dashboard_lag_warn),
            demo_tokens_file=_env("ANP_DEMO_TOKENS_FILE", d.demo_tokens_file),
            demo_api_host=_env("ANP_DEMO_API_HOST", d.demo_api_host),
            heartbeat_file=_env("ANP_HEARTBEAT_FILE", d.heartbeat_file),
            ports={name: _int(f"ANP_{name.upper()}_PORT", port) for name, port in DEFAULT_PORTS.items()},
        )

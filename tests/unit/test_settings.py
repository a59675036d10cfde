from shared.settings import Settings


def test_env_round_trip(monkeypatch) -> None:
    custom = Settings().with_overrides(
        db_prefix="x1",
        kafka_bootstrap="127.0.0.1:1",
        topic_partitions=9,
        ports={"monitoring": 1, "supervision": 2, "training": 3, "committee": 4, "achievement": 5},
        jwt_algorithms=("HS256",),
        relay_poll_interval_s=0.2,
    )
    for name, value in custom.to_env().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == custom

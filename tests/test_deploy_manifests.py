"""The container image recipe and the Kubernetes manifests under ``deploy/``, read as what they
are: every manifest becomes the Kubernetes Python client's model of its kind (a misspelt or
unknown field is caught because the model, written back, no longer equals the file), and the
fields the deployment relies on are checked against each other: probes on ``/healthz`` and ``/status`` at the
container's port, the Service and the Ingress reaching that port, the websocket timeouts and the
cookie affinity, resources, the drain's timings, the autoscaler's and the disruption budget's
targets. The Containerfile's instructions are checked against the manifests and the checkout
(no container engine or cluster runs here)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

kubernetes = pytest.importorskip("kubernetes", reason="the Kubernetes Python client (pip install -e '.[test]')")
from kubernetes.client import ApiClient  # noqa: E402
from kubernetes.utils import parse_quantity  # noqa: E402

from vp3d.cli import parse_args  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
KUBE = REPO / "deploy" / "kubernetes"
CONTAINERFILE = REPO / "deploy" / "Containerfile"
#: `vp3d serve`'s drain grace: how long open sessions may go on after SIGTERM (seconds).
DRAIN_GRACE_S = 60
#: Peak resident memory of one server with two sessions on two levels (bench/pod_memory.py), MB.
MEASURED_PEAK_MB = 977

_CLIENT = ApiClient()


def _model_name(doc: dict) -> str:
    """The client's model class for a manifest: apps/v1 Deployment -> V1Deployment."""
    version = doc["apiVersion"].rsplit("/", 1)[-1]
    return version[0].upper() + version[1:] + doc["kind"]


def _manifest_files() -> list[Path]:
    return sorted(p for p in KUBE.glob("*.yaml") if p.name != "kustomization.yaml")


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def _load(path: Path):
    """Each document of ``path`` as the client's model object."""
    return [_CLIENT.deserialize(json.dumps(doc), _model_name(doc), "application/json") for doc in _docs(path)]


@pytest.fixture(scope="module")
def objects() -> dict[str, object]:
    """Every manifest's object by kind (one of each)."""
    out = {}
    for path in _manifest_files():
        for obj in _load(path):
            assert obj.kind not in out, f"{path.name}: a second {obj.kind}"
            out[obj.kind] = obj
    return out


@pytest.fixture(scope="module")
def container(objects):
    (only,) = objects["Deployment"].spec.template.spec.containers
    return only


@pytest.fixture(scope="module")
def containerfile() -> list[tuple[str, str]]:
    """The Containerfile's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def _instructions(containerfile, name: str) -> list[str]:
    return [args for word, args in containerfile if word == name]


def _exec_form(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def _port_number(container, port) -> int:
    """A probe's or Service's port (a number or the container port's name) as a number."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    named = {p.name: p.container_port for p in container.ports}
    assert port in named, f"port {port!r} names no container port ({', '.join(named)})"
    return named[port]


# --- every manifest is a well-formed Kubernetes object ---------------------------------------

@pytest.mark.parametrize("path", _manifest_files(), ids=lambda p: p.name)
def test_every_manifest_is_a_kubernetes_object_with_only_known_fields(path):
    docs = _docs(path)
    assert docs, f"{path.name} is empty"
    for doc, obj in zip(docs, _load(path)):
        assert type(obj).__name__ == _model_name(doc)
        # Fields the model does not know are dropped when it reads them: the round trip shows them.
        assert _CLIENT.sanitize_for_serialization(obj) == doc, f"{path.name}: unknown or misspelt field"
        assert obj.metadata.name == "vp3d"


def test_a_misspelt_field_is_caught_by_the_round_trip():
    doc = _docs(KUBE / "deployment.yaml")[0]
    probe = doc["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    probe["httpGett"] = probe.pop("httpGet")
    obj = _CLIENT.deserialize(json.dumps(doc), "V1Deployment", "application/json")
    assert _CLIENT.sanitize_for_serialization(obj) != doc


def test_kustomization_applies_every_manifest():
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == [p.name for p in _manifest_files()]
    assert {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget"} == {
        d["kind"] for p in _manifest_files() for d in _docs(p)}


# --- the Deployment --------------------------------------------------------------------------

def test_deployment_selects_its_own_pods(objects):
    deployment = objects["Deployment"]
    labels = deployment.spec.template.metadata.labels
    assert deployment.spec.selector.match_labels.items() <= labels.items()


def test_container_serves_on_its_declared_port(container):
    (port,) = container.ports
    assert port.protocol == "TCP"
    served = parse_args(container.args[1:])
    assert container.args[0] == "vp3d" and served.command == "serve" and served.server
    assert served.host == "0.0.0.0" and served.port == port.container_port == 8080


@pytest.mark.parametrize("probe, path", [("startup_probe", "/healthz"), ("readiness_probe", "/healthz"),
                                         ("liveness_probe", "/status")])
def test_probes_ask_the_server_on_the_container_port(container, probe, path):
    """Ready is /healthz (503 when full or draining: out of the Service); alive is /status (200
    whenever the server runs), so a full pod is never restarted."""
    p = getattr(container, probe)
    assert p is not None, f"no {probe}"
    assert p.http_get.path == path
    assert _port_number(container, p.http_get.port) == container.ports[0].container_port
    assert p.timeout_seconds < p.period_seconds


def test_readiness_reacts_faster_than_liveness(container):
    ready, live = container.readiness_probe, container.liveness_probe
    assert ready.period_seconds * ready.failure_threshold < live.period_seconds * live.failure_threshold
    startup = container.startup_probe
    assert startup.period_seconds * startup.failure_threshold >= 60  # first start imports VTK


def test_resources_are_set_requests_within_limits_and_fit_the_measured_memory(container):
    requests, limits = container.resources.requests, container.resources.limits
    for resource in ("cpu", "memory"):
        assert parse_quantity(requests[resource]) <= parse_quantity(limits[resource]), resource
    assert parse_quantity(requests["memory"]) >= MEASURED_PEAK_MB * 10**6
    assert parse_quantity(limits["memory"]) >= 2 * parse_quantity(requests["memory"]) - 10**6


def test_drain_fits_inside_the_termination_grace_period(objects, container):
    pod = objects["Deployment"].spec.template.spec
    command = container.lifecycle.pre_stop._exec.command
    assert command[0] == "sleep"
    sleep_s = int(command[1])
    assert 0 < sleep_s < pod.termination_grace_period_seconds
    assert pod.termination_grace_period_seconds > sleep_s + DRAIN_GRACE_S


def test_pod_runs_as_the_images_non_root_user(objects, container, containerfile):
    pod = objects["Deployment"].spec.template.spec
    assert pod.security_context.run_as_non_root is True
    (user,) = _instructions(containerfile, "USER")
    assert pod.security_context.run_as_user == int(user.split(":")[0]) != 0
    assert container.security_context.allow_privilege_escalation is False
    assert container.security_context.capabilities.drop == ["ALL"]


def test_vtk_renders_offscreen_with_egl(container):
    env = {e.name: e.value for e in container.env}
    assert env["VTK_DEFAULT_OPENGL_WINDOW"] == "vtkEGLRenderWindow"


# --- Service, Ingress, autoscaler, disruption budget -----------------------------------------

def test_service_reaches_the_pods_on_the_container_port(objects, container):
    service = objects["Service"]
    pod_labels = objects["Deployment"].spec.template.metadata.labels
    assert service.spec.type == "ClusterIP"
    assert service.spec.selector and service.spec.selector.items() <= pod_labels.items()
    (port,) = service.spec.ports
    assert _port_number(container, port.target_port) == container.ports[0].container_port


def test_ingress_routes_to_the_service_with_websocket_timeouts_and_cookie_affinity(objects):
    ingress, service = objects["Ingress"], objects["Service"]
    notes = ingress.metadata.annotations
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert ingress.spec.ingress_class_name == "nginx"
    paths = [p for rule in ingress.spec.rules for p in rule.http.paths]
    assert paths and any(p.path == "/" and p.path_type == "Prefix" for p in paths)
    for p in paths:
        backend = p.backend.service
        assert backend.name == service.metadata.name
        assert backend.port.name in {sp.name for sp in service.spec.ports} or \
            backend.port.number in {sp.port for sp in service.spec.ports}


def test_autoscaler_targets_the_deployment_on_cpu_and_memory(objects, container):
    hpa, deployment = objects["HorizontalPodAutoscaler"], objects["Deployment"]
    target = hpa.spec.scale_target_ref
    assert (target.api_version, target.kind, target.name) == ("apps/v1", "Deployment", deployment.metadata.name)
    assert {m.resource.name for m in hpa.spec.metrics if m.type == "Resource"} == {"cpu", "memory"}
    assert 1 <= hpa.spec.min_replicas <= hpa.spec.max_replicas
    # Utilization is a share of the request, so the pods must request what is measured.
    for m in hpa.spec.metrics:
        assert m.resource.target.type == "Utilization"
        assert m.resource.name in container.resources.requests


def test_disruption_budget_selects_the_pods_and_leaves_room_to_evict(objects):
    pdb, deployment, hpa = objects["PodDisruptionBudget"], objects["Deployment"], objects["HorizontalPodAutoscaler"]
    labels = deployment.spec.template.metadata.labels
    assert pdb.spec.selector.match_labels.items() <= labels.items()
    assert pdb.spec.min_available >= 1
    # With no more pods than minAvailable, a node drain could never evict one.
    assert min(hpa.spec.min_replicas, deployment.spec.replicas) > pdb.spec.min_available


# --- the Containerfile -----------------------------------------------------------------------

def test_containerfile_base_is_debian_bookworm(containerfile):
    assert containerfile[0][0] == "FROM"
    assert re.fullmatch(r"debian:bookworm(-slim)?", containerfile[0][1])


def test_containerfile_runs_the_projects_install_script_in_a_mode_it_has(containerfile):
    copies = {args.split()[-1]: args.split()[0] for args in _instructions(containerfile, "COPY")}
    calls = [m for run in _instructions(containerfile, "RUN")
             for m in re.findall(r"bash (\S*scripts/install\.sh) (\w+)", run)]
    assert [mode for _, mode in calls] == ["runtime"]
    ((in_image, mode),) = calls
    assert copies[in_image] == "scripts/install.sh"  # the checkout's own script, copied in
    usage = subprocess.run(["bash", str(REPO / "scripts" / "install.sh")], capture_output=True, text=True)
    assert usage.returncode == 2
    assert mode in usage.stderr.split()[-1].split("|")  # "usage: ... system|runtime|venv"


def test_containerfile_builds_meshes_and_narration_as_the_non_root_user(containerfile):
    words = [word for word, _ in containerfile]
    user_at = words.index("USER")
    builds = [args for word, args in containerfile[user_at:] if word == "RUN"]
    assert any("vp3d build-meshes" in run for run in builds)
    assert any("vp3d build-narration" in run for run in builds)
    for command in ("build-meshes", "build-narration"):
        assert parse_args([command]).command == command


def test_containerfile_exposes_serves_and_checks_health_on_the_container_port(containerfile, container):
    (expose,) = _instructions(containerfile, "EXPOSE")
    assert int(expose) == container.ports[0].container_port
    (stop,) = _instructions(containerfile, "STOPSIGNAL")
    assert stop == "SIGTERM"
    (health,) = _instructions(containerfile, "HEALTHCHECK")
    assert f"127.0.0.1:{expose}/healthz" in health and "CMD" in health
    (cmd,) = _instructions(containerfile, "CMD")
    served = parse_args(_exec_form(cmd)[1:])
    assert served.command == "serve" and served.server and served.host == "0.0.0.0"
    assert served.port == int(expose)
    assert _exec_form(cmd) == container.args  # the pod runs what the image runs


def test_containerfile_copies_only_what_exists(containerfile):
    for args in _instructions(containerfile, "COPY"):
        source = args.split()[0]
        assert (REPO / source).exists(), source

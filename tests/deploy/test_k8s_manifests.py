"""deploy/k8s, rendered by kustomize and validated offline against a pinned Kubernetes version,
then checked for what the plan asks: probes, requests and limits, the autoscaler, disruption
budgets, and that only the gateway reaches the API pods."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"
BIN = Path(sys.executable).parent
SERVERS = {"monolith": ["taskyard-api"], "split": ["taskyard-auth", "taskyard-tasks"]}
AUTOSCALED = {"monolith": "taskyard-api", "split": "taskyard-tasks"}


def render(overlay: str) -> str:
    rendered = subprocess.run(
        [
            str(BIN / "kubectl"),
            "kustomize",
            "--load-restrictor",
            "LoadRestrictionsNone",  # the gateway's site comes from deploy/nginx
            str(K8S / "overlays" / overlay),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    return rendered.stdout


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def by_kind(text: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(text)}


@pytest.fixture(scope="module", params=["monolith", "split"])
def overlay(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    text = render(request.param)
    path = tmp_path_factory.mktemp("k8s") / f"{request.param}.yaml"
    path.write_text(text)
    return request.param, path, by_kind(text)


def test_the_rendered_manifests_validate(overlay: Any) -> None:
    _name, path, _docs = overlay
    checked = validate(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_validation_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
        "metadata: {name: x}\nspec: {minReplicas: two}\n"
    )
    assert validate(broken).returncode != 0


def test_the_secret_template_validates() -> None:
    checked = validate(K8S / "base" / "secret.template.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_autoscaler_follows_the_plan(overlay: Any) -> None:
    name, _path, docs = overlay
    hpa = docs[("HorizontalPodAutoscaler", AUTOSCALED[name])]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": AUTOSCALED[name],
    }
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 10)
    [metric] = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert hpa["behavior"]["scaleUp"]["policies"] == [
        {"type": "Pods", "value": 2, "periodSeconds": 60}
    ]
    assert hpa["behavior"]["scaleDown"]["policies"] == [
        {"type": "Pods", "value": 1, "periodSeconds": 60}
    ]
    assert sum(kind == "HorizontalPodAutoscaler" for kind, _ in docs) == 1


def test_servers_have_probes_resources_and_a_disruption_budget(overlay: Any) -> None:
    name, _path, docs = overlay
    for server in SERVERS[name]:
        pod = docs[("Deployment", server)]["spec"]["template"]
        [container] = pod["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        budget = docs[("PodDisruptionBudget", server)]["spec"]
        assert budget["minAvailable"] == 1
        assert budget["selector"]["matchLabels"] == pod["metadata"]["labels"] | {
            "app.kubernetes.io/name": "taskyard"
        }
        service = docs[("Service", server)]["spec"]
        assert service["selector"] == pod["metadata"]["labels"]
    jobs = [doc for (kind, _), doc in docs.items() if kind == "Job"]
    assert len(jobs) == len(SERVERS[name])  # one migration per database
    assert all(
        job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"] for job in jobs
    )


def test_only_the_gateway_reaches_the_api_pods(overlay: Any) -> None:
    name, _path, docs = overlay
    policy = docs[("NetworkPolicy", "taskyard-only-the-gateway")]["spec"]
    [rule] = policy["ingress"]
    assert rule["from"] == [
        {
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "taskyard",
                    "app.kubernetes.io/component": "gateway",
                }
            }
        }
    ]
    components = {
        docs[("Deployment", server)]["spec"]["template"]["metadata"]["labels"][
            "app.kubernetes.io/component"
        ]
        for server in SERVERS[name]
    }
    [expression] = policy["podSelector"]["matchExpressions"]
    assert components <= set(expression["values"])


def test_the_split_services_know_who_they_are() -> None:
    docs = by_kind(render("split"))
    for server, service in (("taskyard-auth", "auth"), ("taskyard-tasks", "tasks")):
        env = docs[("Deployment", server)]["spec"]["template"]["spec"]["containers"][0]["env"]
        values = {e["name"]: e.get("value") or e["valueFrom"]["secretKeyRef"]["key"] for e in env}
        assert values["TASKYARD_SERVICE"] == service
        assert values["TASKYARD_DATABASE_URL"] == f"{service.upper()}_DATABASE_URL"
    gateway_site = next(
        doc for (kind, n), doc in docs.items() if n.startswith("taskyard-gateway-site")
    )
    assert "server taskyard-auth:8000" in gateway_site["data"]["taskyard-auth.upstreams"]

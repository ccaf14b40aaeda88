"""The harness of scripts/kube gives real, separate, secured API servers: checked with the Python client."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
import urllib3
from kube import ApiServer
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_two_clusters_hold_separate_data(clusters: tuple[ApiServer, ApiServer]) -> None:
    alpha, beta = clusters
    assert alpha.server != beta.server and alpha.context == "alpha" and beta.context == "beta"
    name = unique("only-in-alpha")
    client.CoreV1Api(alpha.api_client()).create_namespace({"metadata": {"name": name}})

    assert client.CoreV1Api(alpha.api_client()).read_namespace(name).metadata.name == name
    with pytest.raises(ApiException) as missing:
        client.CoreV1Api(beta.api_client()).read_namespace(name)
    assert missing.value.status == 404
    assert client.VersionApi(beta.api_client()).get_code().git_version == "v1.20.2"


def test_kubeconfig_verifies_the_cluster_ca(clusters: tuple[ApiServer, ApiServer]) -> None:
    alpha, beta = clusters
    # alpha's kubeconfig pointed at beta: beta's serving certificate comes from another CA
    doc = alpha.kubeconfig_dict()
    doc["clusters"][0]["cluster"]["server"] = beta.server
    api = config.new_client_from_config_dict(doc, context=alpha.context)
    with pytest.raises(urllib3.exceptions.MaxRetryError, match="CERTIFICATE_VERIFY_FAILED") as refused:
        client.VersionApi(api).get_code()
    assert isinstance(refused.value.reason, urllib3.exceptions.SSLError)


def test_server_rejects_an_invalid_object_with_422(clusters: tuple[ApiServer, ApiServer]) -> None:
    alpha = clusters[0]
    # well-formed for a schema, wrong for the server: the selector does not match the pod labels
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "mismatch"},
        "spec": {
            "selector": {"matchLabels": {"app": "one"}},
            "template": {
                "metadata": {"labels": {"app": "other"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    with pytest.raises(ApiException) as rejected:
        client.AppsV1Api(alpha.api_client()).create_namespaced_deployment("default", deployment)
    assert rejected.value.status == 422
    assert "selector` does not match template `labels`" in rejected.value.body


def test_rbac_denies_a_fresh_service_account(clusters: tuple[ApiServer, ApiServer]) -> None:
    alpha = clusters[0]
    core = client.CoreV1Api(alpha.api_client())
    namespace = unique("rbac")
    core.create_namespace({"metadata": {"name": namespace}})
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "fresh"}})

    def may_list_secrets(user: str, groups: list[str]) -> bool:
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user,
                "groups": groups,
                "resourceAttributes": {"namespace": namespace, "verb": "list", "resource": "secrets"},
            },
        }
        return client.AuthorizationV1Api(alpha.api_client()).create_subject_access_review(review).status.allowed

    account = f"system:serviceaccount:{namespace}:fresh"
    assert not may_list_secrets(account, ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"])
    assert may_list_secrets("someone", ["system:masters"])  # the review does say yes when it should

    # and for real: the controller manager issues the account a token, the server accepts it (401
    # otherwise) and RBAC refuses the request (403)
    token = _service_account_token(core, namespace, "fresh")
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(alpha.api_client(token=token)).list_namespaced_secret(namespace)
    assert refused.value.status == 403


def _service_account_token(core: client.CoreV1Api, namespace: str, account: str, timeout: float = 30) -> str:
    """The token of the secret that Kubernetes 1.20's token controller creates for every account."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for secret in core.list_namespaced_secret(namespace).items:
            annotations = secret.metadata.annotations or {}
            if (
                secret.type == "kubernetes.io/service-account-token"
                and annotations.get("kubernetes.io/service-account.name") == account
                and (secret.data or {}).get("token")
            ):
                return base64.b64decode(secret.data["token"]).decode()
        time.sleep(0.5)
    raise AssertionError(f"no token secret for {namespace}/{account} after {timeout} s")

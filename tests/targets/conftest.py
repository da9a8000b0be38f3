"""The Kubernetes client fixtures of the sandbox's tests, over each module's ``sandbox``."""

from k8s_fixtures import (
    api_client,
    apps,
    core,
    custom,
    extensions,
    kubeconfig,
    kubectl,
    namespace,
)

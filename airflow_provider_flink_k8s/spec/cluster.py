"""The cluster spec: the pydantic models a DAG author writes.

A :class:`FlinkCluster` describes one Flink cluster -- its JobManager and TaskManagers,
the job it runs (application mode) and where state goes -- independently of how it is
deployed (``target``: native Kubernetes objects or a FlinkDeployment for the Flink
Kubernetes Operator). Constructing one validates it completely: every field rule, the
rules between fields, and Flink's memory model, so a bad spec is refused before anything
touches a cluster.

Field names are snake_case; :func:`load_cluster` also reads YAML/JSON text or files, and
:meth:`FlinkCluster.from_flink_deployment` reads a Flink Kubernetes Operator
``FlinkDeployment`` (kept whole: see :class:`OperatorSpec`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from airflow_provider_flink_k8s.exceptions import SpecError, SpecWarning
from airflow_provider_flink_k8s.spec.fields import (
    CLUSTER_NAME_MAX_LENGTH,
    Cpu,
    Dns1123Label,
    Dns1123Subdomain,
    FlinkVersion,
    LabelMap,
    Memory,
    check_dns1035_label,
    flatten_configuration,
)
from airflow_provider_flink_k8s.spec.problems import BROKEN_FIELDS, all_problems
from airflow_provider_flink_k8s.units import parse_memory

__all__ = [
    "FlinkCluster",
    "FlinkDeploymentSpelling",
    "HighAvailabilitySpec",
    "JobManagerSpec",
    "JobSpec",
    "OperatorSpec",
    "RestServiceSpec",
    "TaskManagerSpec",
]

MAX_PARALLELISM_LIMIT = 32768
"""Flink's upper bound for ``pipeline.max-parallelism`` (2^15 key groups)."""

MEMORY_WARNINGS_GIVEN = "memory_warnings_given"
"""Validation-context key: true when the caller has already warned about the memory
fields (naming them as its source wrote them), so the spec does not warn again."""

# A name for a spec whose own name is broken, to check the rules that do not read it.
_NAME_STAND_IN = "spec"


class _SpecModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
        validate_default=True,
    )


class JobManagerSpec(_SpecModel):
    """Size and count of the JobManager."""

    cpu: Cpu = 1.0
    """CPU cores for the JobManager container (``1``, ``0.5`` or ``"500m"``); the request,
    and the limit times ``kubernetes.jobmanager.cpu.limit-factor``."""

    memory: Memory = "1600m"
    """Total process memory of the JobManager (``jobmanager.memory.process.size``), which is
    also the container's memory request: Flink's syntax (``"1600m"`` = 1600 MiB) or a
    Kubernetes quantity (``"2Gi"``)."""

    replicas: int = Field(1, ge=1)
    """JobManager replicas; more than 1 (standby JobManagers) needs high availability."""

    pod_template: dict[str, Any] | None = None
    """A Kubernetes PodTemplateSpec merged into the JobManager pod only (after the shared
    ``pod_template``)."""

    @property
    def memory_bytes(self) -> int:
        """The process memory in bytes."""
        return parse_memory(self.memory)


class TaskManagerSpec(_SpecModel):
    """Size, slots and count of the TaskManagers."""

    cpu: Cpu = 1.0
    """CPU cores per TaskManager container; also Flink's ``taskmanager.cpu.cores``."""

    memory: Memory = "1728m"
    """Total process memory per TaskManager (``taskmanager.memory.process.size``), also the
    container's memory request."""

    slots: int = Field(1, ge=1)
    """Task slots per TaskManager (``taskmanager.numberOfTaskSlots``)."""

    replicas: int | None = Field(None, ge=1)
    """TaskManager count. Leave it out to derive it: ``ceil(job.parallelism / slots)`` in
    application mode, 1 for a session cluster. When set it wins over parallelism, as in the
    Flink Kubernetes Operator."""

    pod_template: dict[str, Any] | None = None
    """A Kubernetes PodTemplateSpec merged into the TaskManager pods only."""

    @property
    def memory_bytes(self) -> int:
        """The process memory in bytes."""
        return parse_memory(self.memory)


class JobSpec(_SpecModel):
    """The job an application cluster runs."""

    jar_uri: str = Field(min_length=1)
    """Where the job's jar is: ``local:///opt/flink/usrlib/job.jar`` (inside the image),
    ``file://``, or a remote URI the image can read (``s3://``, ``https://``)."""

    entry_class: str | None = None
    """Fully qualified main class; optional when the jar's manifest names one."""

    args: list[str] = Field(default_factory=list)
    """Arguments passed to the main class."""

    parallelism: int | None = Field(None, ge=1, le=MAX_PARALLELISM_LIMIT)
    """Default parallelism of the job (``parallelism.default``). Derived from
    ``taskmanager.replicas x taskmanager.slots`` when only the replicas are set, else 1."""

    max_parallelism: int | None = Field(None, ge=1, le=MAX_PARALLELISM_LIMIT)
    """Maximum parallelism (``pipeline.max-parallelism``): the number of key groups, the
    upper bound for any later rescale. Pick one with many divisors (120, 360, 720)."""

    upgrade_mode: Literal["stateless", "savepoint", "last-state"] = "stateless"
    """How state survives an upgrade or rescale that restarts the job: ``stateless`` (start
    empty), ``savepoint`` (stop with a savepoint, restore from it; needs ``savepoint_dir``),
    ``last-state`` (restore from the latest checkpoint; needs high availability and
    ``checkpoint_dir``)."""

    initial_savepoint: str | None = None
    """Savepoint or retained checkpoint path to start the job from."""

    allow_non_restored_state: bool = False
    """Start even if the savepoint holds state no operator of the job claims."""

    state: Literal["running", "suspended"] = "running"
    """Desired job state: ``suspended`` keeps the spec but stops the job (operator target)."""

    @model_validator(mode="after")
    def _parallelism_within_max(self) -> JobSpec:
        if (
            self.parallelism is not None
            and self.max_parallelism is not None
            and self.parallelism > self.max_parallelism
        ):
            raise ValueError(
                f"job.parallelism ({self.parallelism}) must be <= job.max_parallelism "
                f"({self.max_parallelism})"
            )
        return self


class HighAvailabilitySpec(_SpecModel):
    """Kubernetes high availability: leader election and job metadata in ConfigMaps."""

    enabled: bool = False
    """Turn on Flink's Kubernetes HA services (``high-availability.type: kubernetes``)."""

    storage_dir: str | None = None
    """Durable directory for HA metadata (``high-availability.storageDir``), e.g.
    ``s3://bucket/flink/ha``; required when enabled."""

    @model_validator(mode="after")
    def _storage_when_enabled(self) -> HighAvailabilitySpec:
        if self.enabled and not self.storage_dir:
            raise ValueError(
                "high_availability.storage_dir is required when high availability is enabled"
            )
        return self


class RestServiceSpec(_SpecModel):
    """How the JobManager's REST API and web UI are exposed."""

    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    """Kubernetes Service type of the ``<name>-rest`` Service."""

    node_port: int | None = Field(None, ge=30000, le=32767)
    """Fixed node port (only with type NodePort); left to Kubernetes when absent."""

    annotations: dict[str, str] = Field(default_factory=dict)
    """Annotations on the REST Service (e.g. a cloud load balancer's settings)."""

    web_ui_url: str | None = None
    """The address people open the Flink dashboard at, e.g. an Ingress or LoadBalancer
    host (``https://flink.example.com/orders/``): the "Flink Web UI" link of every task
    on this cluster. Unset: the dashboard as the task reaches Flink's REST API (a
    ``flink`` connection's URL, or the API server's service proxy, which a browser opens
    only with Kubernetes credentials). Airflow only: nothing is rendered from it."""

    @field_validator("web_ui_url")
    @classmethod
    def _web_ui_url_is_http(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value.strip()

    @model_validator(mode="after")
    def _node_port_needs_node_port_type(self) -> RestServiceSpec:
        if self.node_port is not None and self.type == "ClusterIP":
            raise ValueError(
                "rest_service.node_port is only allowed with type NodePort or LoadBalancer"
            )
        return self


class FlinkDeploymentSpelling(_SpecModel):
    """How the FlinkDeployment a spec was read from wrote what the spec holds in fields.

    The Flink Kubernetes Operator takes some values in two forms: ``flinkConfiguration``
    flat or nested (the CRD keeps either as written), a key under its old or new name,
    ``resource`` or ``resources`` for a role's size, a quantity as ``"2Gi"`` or ``4G``.
    Rendering a spec that has a spelling writes each value the spec holds back in the
    source's form, literally while it is unchanged; values the spec changed are written
    in that form too. Set by
    :meth:`FlinkCluster.from_flink_deployment`; rarely written by hand.
    """

    flink_configuration: dict[str, Any] = Field(default_factory=dict)
    """The source's ``spec.flinkConfiguration`` as written. Every key it has is written
    back under the same name (``state.savepoints.dir`` stays so, even when the field
    ``savepoint_dir`` holds it) and nesting, with the same literal value while the spec's
    value is unchanged; keys the spec adds come flat after them."""

    jobmanager_resources: dict[str, Any] | None = None
    """The cpu and memory entries of the source's ``spec.jobManager.resources``
    (``requests``/``limits``), when the JobManager was sized with ``resources`` rather
    than ``resource``: it is rendered in that form, with limits from the limit factors."""

    taskmanager_resources: dict[str, Any] | None = None
    """As ``jobmanager_resources``, for ``spec.taskManager.resources``."""


class OperatorSpec(_SpecModel):
    """FlinkDeployment settings no other spec field covers (operator target).

    Together with :class:`FlinkDeploymentSpelling` this keeps every field of a
    FlinkDeployment read by :meth:`FlinkCluster.from_flink_deployment`, so rendering the
    spec gives the same FlinkDeployment again.
    """

    deployment_mode: Literal["native", "standalone"] = "native"
    """The FlinkDeployment's ``spec.mode``: how the operator runs Flink -- ``native``
    (Flink's native Kubernetes integration) or ``standalone`` (Deployments the operator
    manages). Unrelated to ``target``, which chooses between the operator and this
    provider's own standalone objects."""

    overrides: dict[str, Any] = Field(default_factory=dict)
    """FlinkDeployment ``spec`` fields the spec has no field for, kept verbatim and laid
    over the rendered ``spec`` (mappings key by key): ``ingress``, ``restartNonce``,
    ``job.savepointTriggerNonce`` (and the other ``job.*Nonce`` fields),
    ``jobManager.resource.ephemeralStorage``, and extra ``jobManager.resources``
    entries (``ephemeral-storage``, GPUs, ``claims``); the same under ``taskManager``.
    Nothing else is allowed here. The standalone target refuses each of them, naming it,
    as it has no operator to act on them."""

    spelling: FlinkDeploymentSpelling | None = None
    """How the FlinkDeployment this spec was read from wrote its values; ``None`` for a
    spec written as a spec. With a spelling, rendering also leaves out what the source
    left out and the spec leaves unset (``image``, ``serviceAccount``,
    ``job.parallelism``, ``taskManager.replicas``), so the operator applies the same
    defaults to both."""


def _normalize_env(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [{"name": str(name), "value": str(item)} for name, item in value.items()]
    if isinstance(value, list):
        for entry in value:
            if not isinstance(entry, dict) or "name" not in entry:
                raise ValueError(
                    "env entries must be Kubernetes EnvVar objects with a 'name' "
                    "(or give env as a mapping of names to values)"
                )
        return [dict(entry) for entry in value]
    raise ValueError("env must be a mapping of names to values or a list of EnvVar objects")


class FlinkCluster(_SpecModel):
    """One Flink cluster on Kubernetes, as a DAG author describes it.

    Construct it from keyword arguments, a dict (:meth:`model_validate`), or YAML/JSON text
    or a file (:func:`~airflow_provider_flink_k8s.spec.load_cluster`). Construction refuses a
    bad spec with one :class:`~airflow_provider_flink_k8s.exceptions.SpecError` listing every
    problem -- each broken field with its rule, and each broken rule between fields -- and
    warns (:class:`~airflow_provider_flink_k8s.exceptions.SpecWarning`) about memory written
    in units a Kubernetes user may mean as decimal (``"2G"``).
    """

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise _spec_error(data, error, None) from None

    # pydantic calls a model's own __init__ whenever it validates one (nested in another
    # model, model_validate); marked as its base __init__, this one runs only for
    # FlinkCluster(...), and validation elsewhere stays pydantic's.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> FlinkCluster:
        """Validate a mapping (or a model) as a cluster spec.

        :raises SpecError: listing every problem, as construction does.
        """
        try:
            return super().model_validate(obj, **options)
        except ValidationError as error:
            raise _spec_error(obj, error, options.get("context")) from None

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, **options: Any
    ) -> FlinkCluster:
        """Validate JSON text as a cluster spec.

        :raises SpecError: listing every problem, as construction does.
        """
        try:
            return super().model_validate_json(json_data, **options)
        except ValidationError as error:
            try:
                data = json.loads(json_data)
            except ValueError:
                data = None
            raise _spec_error(data, error, options.get("context")) from None

    name: str
    """Cluster name: a DNS-1035 label of at most 45 characters. Every object of the cluster
    is named after it (``<name>-jobmanager``, ``<name>-rest``, ...) and labelled with it."""

    namespace: Dns1123Label = "default"
    """Kubernetes namespace the cluster lives in."""

    flink_version: FlinkVersion = "2.3"
    """Flink version of the image (``"2.3"``; ``"v2_3"`` and ``"2.3.0"`` are accepted)."""

    image: str | None = None
    """Container image; defaults to the official ``flink:<flink_version>`` image."""

    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    """Kubernetes image pull policy of the Flink containers."""

    mode: Literal["session", "application"] = "session"
    """``application``: the cluster runs ``job`` and exists for it; ``session``: a
    long-running cluster jobs are submitted to. Defaults to ``application`` when a ``job``
    is given, else ``session``."""

    target: Literal["standalone", "operator"] = "standalone"
    """``standalone``: native Kubernetes Deployments and Services (Flink's standalone
    Kubernetes layout, no operator needed); ``operator``: one FlinkDeployment for the Flink
    Kubernetes Operator."""

    jobmanager: JobManagerSpec = Field(default_factory=JobManagerSpec)
    """JobManager size and replicas."""

    taskmanager: TaskManagerSpec = Field(default_factory=TaskManagerSpec)
    """TaskManager size, slots and replicas."""

    job: JobSpec | None = None
    """The job of an application cluster; required in application mode, refused in session
    mode (submit session jobs with ``FlinkSubmitJobOperator``)."""

    flink_configuration: dict[str, str] = Field(default_factory=dict)
    """Flink configuration overrides (``config.yaml`` keys), flat or nested; they win over
    everything the provider derives except the keys a spec field owns (memory process
    sizes, slots), which must be set through those fields."""

    high_availability: HighAvailabilitySpec = Field(default_factory=HighAvailabilitySpec)
    """Kubernetes HA services (needed for standby JobManagers and ``last-state`` upgrades)."""

    checkpoint_dir: str | None = None
    """Durable checkpoint directory (``execution.checkpointing.dir``)."""

    savepoint_dir: str | None = None
    """Default savepoint directory (``execution.checkpointing.savepoint-dir``)."""

    rest_service: RestServiceSpec = Field(default_factory=RestServiceSpec)
    """How the REST API / web UI Service is exposed."""

    service_account: Dns1123Subdomain | None = None
    """ServiceAccount of the Flink pods. With HA and no account given, the standalone
    target creates ``<name>`` with the Role HA needs."""

    labels: LabelMap = Field(default_factory=dict)
    """Extra labels on every object and pod of the cluster."""

    annotations: dict[str, str] = Field(default_factory=dict)
    """Extra annotations on every object and pod of the cluster."""

    env: list[dict[str, Any]] = Field(default_factory=list)
    """Environment of the Flink containers: a mapping of names to values, or a list of
    Kubernetes EnvVar objects (for ``valueFrom``)."""

    pod_template: dict[str, Any] | None = None
    """A Kubernetes PodTemplateSpec merged into both JobManager and TaskManager pods
    (node selectors, tolerations, volumes, sidecars...). The Flink container in it must be
    named ``flink-main-container``."""

    log_configuration: dict[str, str] | None = None
    """Logging files by name (e.g. ``log4j-console.properties``) replacing Flink's defaults."""

    operator: OperatorSpec = Field(default_factory=OperatorSpec)
    """FlinkDeployment fields with no other spec field (the operator's ``mode``,
    ``ingress``, nonces...) and the spelling of a FlinkDeployment the spec was read from;
    the standalone target refuses what it cannot honour."""

    @model_validator(mode="before")
    @classmethod
    def _default_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("mode") is None:
            data = {**data, "mode": "application" if data.get("job") else "session"}
        return data

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_dns1035_label(value, CLUSTER_NAME_MAX_LENGTH)

    @field_validator("flink_configuration", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> dict[str, str]:
        return flatten_configuration(value or {})

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: Any) -> list[dict[str, Any]]:
        return _normalize_env(value or [])

    @model_validator(mode="after")
    def _cross_field_rules(self, info: ValidationInfo) -> FlinkCluster:
        # Imported here: validation needs the memory model, which lives in resources/.
        from airflow_provider_flink_k8s.spec.validation import cluster_problems, memory_warnings

        context = info.context or {}
        if not context.get(MEMORY_WARNINGS_GIVEN):
            for warning in memory_warnings(self):
                warnings.warn(str(warning), SpecWarning, stacklevel=2)
        problems = cluster_problems(self, context.get(BROKEN_FIELDS, ()))
        if problems:
            # SpecError is a ValueError: pydantic keeps it in the error's context, and
            # all_problems() recovers every problem from it.
            raise SpecError(problems)
        return self

    @property
    def effective_image(self) -> str:
        """The image the containers run."""
        return self.image or f"flink:{self.flink_version}"

    def to_yaml(self) -> str:
        """The spec as YAML, the fields a DAG author set (defaults left out), in field
        order: what :func:`load_cluster` reads back into an equal spec."""
        fields = self.model_dump(mode="json", exclude_defaults=True)
        return yaml.safe_dump(fields, sort_keys=False, default_flow_style=False)

    def serialize(self) -> str:
        """Airflow's hook for template fields: a task's "Rendered Template" view shows
        a ``cluster`` given as a :class:`FlinkCluster` as YAML (:meth:`to_yaml`), not
        as the model's one-line repr."""
        return self.to_yaml()

    @classmethod
    def from_flink_deployment(
        cls,
        manifest: Mapping[str, Any],
        *,
        target: Literal["standalone", "operator"] = "operator",
    ) -> FlinkCluster:
        """Read a Flink Kubernetes Operator ``FlinkDeployment`` (``flink.apache.org/v1beta1``).

        Every field is kept: the spec's own fields take what they cover, the rest goes to
        :attr:`operator` (``overrides``, ``spelling``), so rendering the result with the
        operator target gives the same FlinkDeployment, defaults aside.

        :param manifest: the FlinkDeployment as a mapping (parsed YAML/JSON).
        :param target: what the spec will be rendered to; ``standalone`` refuses what only
            the operator can honour (an ``ingress``, nonces, operator settings...).
        :raises SpecError: listing every problem, each naming the FlinkDeployment field
            (``apiVersion``, ``spec.jobManager.resource.memory``...).
        """
        # Imported here: the reader builds FlinkCluster models itself.
        from airflow_provider_flink_k8s.spec.flinkdeployment import read_flink_deployment

        return read_flink_deployment(manifest, target=target)


def _spec_error(data: Any, error: ValidationError, context: Mapping[str, Any] | None) -> SpecError:
    """The one error a refused spec raises, with every problem of ``data``."""
    return SpecError(
        all_problems(FlinkCluster, data, error, context=context, stand_ins={"name": _NAME_STAND_IN})
    )

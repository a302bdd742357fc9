"""The mesh spec: namespaces, services, workloads and secrets, declared as data.

The embedded mesh runs what a spec declares; ``chaoskit analyze --mesh-spec`` checks
resources against it (which subsets select pods, which hosts exist).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Self

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic.alias_generators import to_camel

from chaoskit.errors import ConfigError
from chaoskit.mesh.releases import DEFAULT_ISTIO, parse_release

SPEC_API_VERSION = "chaoskit.dev/v1alpha1"
CLUSTER_DOMAIN = "svc.cluster.local"
DEFAULT_SPEC_PATH = Path(__file__).with_name("default-mesh.yaml")


class _SpecModel(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class ServicePort(_SpecModel):
    name: str = "http"
    port: int = Field(ge=1, le=65535)
    target_port: int | None = Field(default=None, ge=1, le=65535)
    protocol: Literal["HTTP", "HTTPS", "HTTP2", "GRPC", "TCP"] = "HTTP"

    @property
    def container_port(self) -> int:
        return self.target_port or self.port


class Service(_SpecModel):
    name: str
    namespace: str = "default"
    ports: list[ServicePort] = Field(min_length=1)
    selector: dict[str, str] | None = None  # default: {app: <name>}
    # The Service's own labels (default {app: <name>}); Istio reads istio.io/use-waypoint here.
    labels: dict[str, str] | None = None
    # Istio's networking.istio.io/exportTo annotation on a Service: the namespaces that see
    # it ("." its own, "*" all; empty: all). `chaoskit analyze` honours it; the embedded data
    # plane, which ignores exportTo on Istio resources too, does not restrict visibility.
    export_to: list[str] = Field(default_factory=list)

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.namespace}.{CLUSTER_DOMAIN}"

    @property
    def effective_selector(self) -> dict[str, str]:
        return self.selector if self.selector is not None else {"app": self.name}


class AppSpec(_SpecModel):
    """Which application a workload runs, and its settings (validated by the mesh)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    settings: dict[str, Any] = Field(default_factory=dict)


class Workload(_SpecModel):
    name: str
    namespace: str = "default"
    labels: dict[str, str] = Field(min_length=1)
    replicas: int = Field(default=1, ge=0, le=64)
    app: AppSpec
    sidecar: bool = True
    env: dict[str, str] = Field(default_factory=dict)
    # The node the pods run on (a Pod's spec.nodeName): Istio adds the node's topology
    # labels to the pods' (see Node). None: no node modelled.
    node_name: str | None = None

    def selected_by(self, selector: dict[str, str]) -> bool:
        return all(self.labels.get(k) == v for k, v in selector.items())


class Node(_SpecModel):
    """A Kubernetes Node, for the labels Istio copies onto the pods scheduled there."""

    name: str
    labels: dict[str, str] = Field(default_factory=dict)


class SelfSigned(_SpecModel):
    hosts: list[str] = Field(min_length=1)


class Secret(_SpecModel):
    """A TLS secret (``tls.crt``/``tls.key``), e.g. for a Gateway's ``credentialName``."""

    name: str
    namespace: str = "istio-system"
    self_signed: SelfSigned | None = None


class Namespace(_SpecModel):
    name: str
    labels: dict[str, str] = Field(default_factory=lambda: {"istio-injection": "enabled"})


class MeshSpecBody(_SpecModel):
    # The Istio release whose behaviour the mesh emulates (chaoskit.mesh.releases); unset means
    # the newest one verified, and `--istio-version` overrides either.
    istio_version: str = DEFAULT_ISTIO
    namespaces: list[Namespace] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    workloads: list[Workload] = Field(default_factory=list)
    secrets: list[Secret] = Field(default_factory=list)
    nodes: list[Node] = Field(default_factory=list)
    # How pods report istio-proxy: "native" as Istio 1.28 injects on Kubernetes 1.29+ (an
    # init container with restartPolicy Always), "classic" as a second regular container.
    sidecar_injection: Literal["native", "classic"] = "native"
    # Istio YAML in force from the start (paths relative to the spec file), as a Bookinfo
    # install applies its gateway and destination rules right after the workloads.
    resources: list[str] = Field(default_factory=list)

    @field_validator("istio_version", mode="before")
    @classmethod
    def _an_emulated_release(cls, value: object) -> str:
        try:
            parse_release(str(value))
        except ConfigError as exc:
            raise ValueError(f"{exc} (spec.istioVersion)") from None
        return str(value)

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        known = {ns.name for ns in self.namespaces}
        for kind, items in (("service", self.services), ("workload", self.workloads)):
            for item in items:
                if item.namespace not in known:
                    raise ValueError(
                        f"{kind} {item.name!r} is in namespace {item.namespace!r}, which the spec "
                        f"does not declare; add it under spec.namespaces (declared: "
                        f"{', '.join(sorted(known)) or 'none'})"
                    )
        names = [(w.namespace, w.name) for w in self.workloads]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"workload names must be unique per namespace: {sorted(duplicates)}")
        return self


class SpecMetadata(_SpecModel):
    name: str = "mesh"


class MeshSpec(_SpecModel):
    api_version: Literal["chaoskit.dev/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["MeshSpec"]
    metadata: SpecMetadata = Field(default_factory=SpecMetadata)
    spec: MeshSpecBody
    _source_dir: Path = PrivateAttr(default=Path("."))

    def with_istio_version(self, version: str | None) -> MeshSpec:
        """This spec emulating another Istio release (``--istio-version``); None keeps it."""
        if version is None:
            return self
        parse_release(version)  # a ConfigError that names the option's value
        body = self.spec.model_copy(update={"istio_version": str(version)})
        return self.model_copy(update={"spec": body})

    def resource_files(self) -> list[Path]:
        """The spec's ``resources``, resolved against the spec file's directory."""
        return [(self._source_dir / entry).resolve() for entry in self.spec.resources]

    @classmethod
    def load(cls, path: str | Path | None = None) -> MeshSpec:
        """Read a spec file (the built-in default when ``path`` is None)."""
        path = Path(path) if path is not None else DEFAULT_SPEC_PATH
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read mesh spec {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"mesh spec {path} is not valid YAML: {exc}") from None
        try:
            spec = cls.model_validate(data)
        except pydantic.ValidationError as exc:
            lines = "\n".join(
                f"  {'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors(include_url=False)
            )
            raise ConfigError(f"mesh spec {path} is invalid:\n{lines}") from None
        spec._source_dir = path.resolve().parent
        missing = [str(f) for f in spec.resource_files() if not f.is_file()]
        if missing:
            raise ConfigError(f"mesh spec {path}: spec.resources names missing files: {missing}")
        from chaoskit.topology.app_check import app_problems

        problems = list(app_problems(spec))
        if problems:
            raise ConfigError(f"mesh spec {path} is invalid:\n  " + "\n  ".join(problems))
        return spec

    @classmethod
    def default(cls) -> MeshSpec:
        return _default_spec()

    # --- queries the analyzer and the mesh share --------------------------------------------

    @cached_property
    def services_by_fqdn(self) -> dict[str, Service]:
        return {s.fqdn: s for s in self.spec.services}

    def workloads_in(self, namespace: str) -> Iterator[Workload]:
        return (w for w in self.spec.workloads if w.namespace == namespace)

    def workloads_of(self, service: Service) -> list[Workload]:
        selector = service.effective_selector
        return [w for w in self.workloads_in(service.namespace) if w.selected_by(selector)]

    def secret(self, namespace: str, name: str) -> Secret | None:
        return next(
            (s for s in self.spec.secrets if s.namespace == namespace and s.name == name), None
        )


_DEFAULT: list[MeshSpec] = []


def _default_spec() -> MeshSpec:
    if not _DEFAULT:
        _DEFAULT.append(MeshSpec.load(DEFAULT_SPEC_PATH))
    return _DEFAULT[0]

"""The message catalogue: istioctl's codes, levels and texts, plus chaoskit's own CK codes."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from chaoskit.errors import Problem


class Level(enum.IntEnum):
    """Severity, ordered as istioctl orders them for ``--failure-threshold``."""

    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @classmethod
    def parse(cls, text: str) -> Level:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown level {text!r}; use Info, Warning or Error") from None


@dataclass(frozen=True, slots=True)
class MessageType:
    code: str
    name: str
    level: Level
    template: str

    @property
    def documentation_url(self) -> str:
        if self.code.startswith("IST"):
            return f"https://istio.io/latest/docs/reference/config/analysis/{self.code.lower()}/"
        return f"docs/istio-validation-notes.md#{self.code.lower()}"


def _types(*items: MessageType) -> dict[str, MessageType]:
    return {item.code: item for item in items}


# Codes, names, levels and templates follow istio/istio pkg/config/analysis/msg/messages.yaml
# (Go's %s/%v/%q become {n}; callers pass %q and list arguments already formatted as Go would).
MESSAGE_TYPES = _types(
    MessageType(
        "IST0101", "ReferencedResourceNotFound", Level.ERROR, "Referenced {0} not found: {1}"
    ),
    MessageType("IST0106", "SchemaValidationError", Level.ERROR, "Schema validation error: {0}"),
    MessageType(
        "IST0109",
        "ConflictingMeshGatewayVirtualServiceHosts",
        Level.ERROR,
        "The VirtualServices {0} associated with mesh gateway define the same host {1} which can "
        "lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices "
        "into a single resource.",
    ),
    MessageType(
        "IST0112",
        "VirtualServiceDestinationPortSelectorRequired",
        Level.ERROR,
        "This VirtualService routes to a service {0} that exposes multiple ports {1}. "
        "Specifying a port in the destination is required to disambiguate.",
    ),
    MessageType(
        "IST0128",
        "NoServerCertificateVerificationDestinationLevel",
        Level.WARNING,
        "DestinationRule {0} in namespace {1} has TLS mode set to {2} but no caCertificates are "
        "set to validate server identity for host: {3}",
    ),
    MessageType(
        "IST0129",
        "NoServerCertificateVerificationPortLevel",
        Level.WARNING,
        "DestinationRule {0} in namespace {1} has TLS mode set to {2} but no caCertificates are "
        "set to validate server identity for host: {3} at port {4}",
    ),
    MessageType(
        "IST0130",
        "VirtualServiceUnreachableRule",
        Level.WARNING,
        "VirtualService rule {0} not used ({1}).",
    ),
    MessageType(
        "IST0131",
        "VirtualServiceIneffectiveMatch",
        Level.INFO,
        "VirtualService rule {0} match {1} is not used (duplicate/overlapping match in rule {2}).",
    ),
    MessageType(
        "IST0132",
        "VirtualServiceHostNotFoundInGateway",
        Level.WARNING,
        "one or more host {0} defined in VirtualService {1} not found in Gateway {2}.",
    ),
    MessageType("IST0133", "SchemaWarning", Level.WARNING, "Schema validation warning: {0}"),
    MessageType(
        "IST0162",
        "GatewayPortNotDefinedOnService",
        Level.WARNING,
        "The gateway is listening on a target port (port {0}) that is not defined in the Service "
        "associated with its workload instances (Pod selector {1}). If you need to access the "
        "gateway port through the gateway Service, it will not be available.",
    ),
    MessageType(
        "IST0173",
        "DestinationRuleSubsetNotSelectPods",
        Level.ERROR,
        "The Subset {0} defined in the DestinationRule does not select any pods. Which may lead "
        "to 503 UH (NoHealthyUpstream).",
    ),
    MessageType(
        "IST0174",
        "UnknownDestinationRuleHost",
        Level.WARNING,
        "The host {0} defined in the DestinationRule does not match any services in the mesh.",
    ),
    # chaoskit's own codes, for what istioctl does not check.
    MessageType("CK0001", "ResourceLoadError", Level.ERROR, "{0}"),
    MessageType(
        "CK0101",
        "RouteWeightsNotSummingTo100",
        Level.WARNING,
        "route weights sum to {0}, not 100; Istio treats weights as relative, so the destinations "
        "get {1}.",
    ),
    MessageType(
        "CK0301",
        "EnvoyFilterPatchNotEmulated",
        Level.WARNING,
        "the embedded mesh does not run {0}: {1}.",
    ),
)


def go_quote(text: str) -> str:
    """Go's ``%q``: a double-quoted string with Go escapes."""
    return json.dumps(text, ensure_ascii=False)


def go_list(items: Iterable[object]) -> str:
    """Go's ``%v`` of a slice: ``[a b c]``."""
    return "[" + " ".join(str(i) for i in items) + "]"


@dataclass(frozen=True, slots=True)
class Message:
    """One finding: a message type, its arguments, where it is, and how to fix it."""

    type: MessageType
    args: tuple[object, ...]
    source: str | None = None
    document: int | None = None
    line: int | None = None
    path: str = ""
    kind: str = ""
    resource: str = ""  # namespace/name
    fix: str = ""
    details: dict[str, object] = field(default_factory=dict)

    @property
    def level(self) -> Level:
        return self.type.level

    @property
    def text(self) -> str:
        return self.type.template.format(*self.args)

    @property
    def origin(self) -> str:
        """``VirtualService bookinfo/reviews file.yaml:12``, as istioctl prints it."""
        parts = [p for p in (self.kind, self.resource) if p]
        if self.source:
            parts.append(f"{self.source}:{self.line}" if self.line else self.source)
        return " ".join(parts)

    def format(self) -> str:
        head = f"{self.level.label} [{self.type.code}] ({self.origin}) {self.text}"
        where = f"at {self.path}" if self.path else "in the whole document"
        doc = f" (document {self.document})" if self.document else ""
        tail = f"\n    {where}{doc}" + (f"; fix: {self.fix}" if self.fix else "")
        return head + tail

    @classmethod
    def from_problem(cls, problem: Problem, *, fix: str = "") -> Message:
        code = problem.code or "CK0001"
        message_type = MESSAGE_TYPES[code]
        text = problem.message
        for prefix in ("Schema validation error: ", "Schema validation warning: "):
            text = text.removeprefix(prefix)
        return cls(
            type=message_type,
            args=(text,),
            source=problem.source,
            document=problem.document,
            line=problem.line,
            path=problem.path,
            kind=problem.kind,
            resource=problem.name,
            fix=problem.fix or fix,
        )

"""The cluster backend: every change an experiment makes, made so that it can be undone.

``KubeBackend`` drives a real cluster (kind, or another one past the context guard) through
:class:`chaoskit.kube.client.KubeClient`; the same calls also work on the embedded mesh's API
server, which is how its contract tests run without a cluster.

The rails:

- **Snapshot before change.** Before the first write to an object the backend records what
  was there (or that nothing was), in memory and in a journal file, and after each write
  the resourceVersion it got. Rollback puts the snapshot back *at that resourceVersion*,
  re-creates what the run deleted and deletes (with a resourceVersion precondition) what it
  created. An object somebody else changed since the run's write (another resourceVersion,
  or a 409) is never overwritten: rollback reports the conflict, with what changed and how
  to resolve it, and goes on with the rest.
- **Ownership labels.** What the backend creates carries ``chaoskit.dev/run=<run id>``;
  :meth:`KubeBackend.sweep` deletes such leftovers of crashed runs and
  :meth:`KubeBackend.recover` replays the journals they left behind, but only those written
  for this same cluster (context, API server and kube-system's uid); the others stay where
  they are, and :attr:`KubeBackend.notices` says so.
- **Blast radius.** The backend only changes objects in the namespaces the experiment
  declared; anything else is refused before a request is sent.
- **Abort guard.** :class:`AbortGuard` compares a guard metric with a floor each time the
  runner polls it and rolls everything back when the metric falls below it.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from chaoskit.errors import BackendError, ConfigError, ReadinessTimeout
from chaoskit.istio.resources import GROUP, RESOURCE_TYPES
from chaoskit.kube.client import Conflict, ExecResult, KubeClient
from chaoskit.kube.objects import RUN_LABEL, SERVER_FIELDS, clean as clean_object
from chaoskit.kube.undo import (
    Journal,
    ObjectRef,
    ObjectUndo,
    ScaleUndo,
    TargetIdentity,
    Undo,
    leftover_journals,
    target_mismatch,
    undo_from_json,
)
from chaoskit.topology.podshape import PROXY_CONTAINER

JsonObject = dict[str, Any]

MODIFIED_ANNOTATION = "chaoskit.dev/modified-by-run"
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class BlastRadiusError(BackendError):
    """A change outside the namespaces the experiment declared."""


class RollbackError(BackendError):
    """Some changes could not be undone; the message lists them. ``failed`` (the request
    failed) stay pending and in the journal for a retry; ``conflicts`` (somebody else changed
    the object since the run's write) are left for a person to resolve."""

    def __init__(
        self, message: str, failed: Sequence[str] = (), conflicts: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.failed = list(failed)
        self.conflicts = list(conflicts)


class _Changed(BackendError):
    """Rollback found the object changed by somebody else since the run's write."""

    def __init__(self, ref: ObjectRef, message: str) -> None:
        super().__init__(message)
        self.ref = ref


class ExecFn(Protocol):
    def __call__(
        self, namespace: str, pod: str, command: list[str], container: str
    ) -> ExecResult: ...


__all__ = [
    "AbortGuard",
    "BlastRadiusError",
    "Change",
    "Journal",
    "KubeBackend",
    "ObjectRef",
    "ObjectUndo",
    "PlannedChange",
    "RollbackError",
    "ScaleUndo",
    "TargetIdentity",
    "Undo",
    "clean",
    "contains_text",
    "parse_stats",
    "undo_from_json",
    "virtual_service_in",
]


def clean(obj: JsonObject | None) -> JsonObject | None:
    """A copy without status and server-owned metadata: what can be written back."""
    return None if obj is None else clean_object(obj)


# --- what will change ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedChange:
    action: str  # create | replace | unchanged | delete | absent
    ref: ObjectRef
    detail: str = ""

    def describe(self) -> str:
        tail = f" ({self.detail})" if self.detail else ""
        return f"{self.action} {self.ref.describe()}{tail}"


@dataclass(frozen=True, slots=True)
class Change:
    """What a write did: ``created``, ``configured``, ``unchanged``, ``deleted``, ``absent``."""

    action: str
    ref: ObjectRef
    resource_version: str = ""

    def describe(self) -> str:
        return f"{self.ref.describe()} {self.action}"


# --- the abort guard ------------------------------------------------------------------------------


@dataclass
class AbortGuard:
    """Trips when ``check_fn()`` falls below ``floor``; then calls ``on_trip`` once.

    The runner calls :meth:`poll` between observations. ``check_fn`` returning ``None``
    means "no data yet" and never trips.
    """

    floor: float
    check_fn: Callable[[], float | None]
    on_trip: Callable[[str], object] | None = None
    name: str = "guard metric"
    tripped: bool = False
    reason: str = ""
    last: float | None = None

    def poll(self) -> bool:
        if self.tripped:
            return True
        value = self.check_fn()
        self.last = value
        if value is None or value >= self.floor:
            return False
        self.tripped = True
        self.reason = f"{self.name} {value:g} fell below the floor {self.floor:g}; aborting"
        if self.on_trip is not None:
            self.on_trip(self.reason)
        return True


# --- config predicates for wait_for_config --------------------------------------------------------


def virtual_service_in(namespace: str, name: str) -> Callable[[JsonObject], bool]:
    """True once a route in the dump names the VirtualService as its source.

    Istio writes the source into each route's metadata, ``filter_metadata.istio.config``:
    ``/apis/networking.istio.io/<version>/namespaces/<ns>/virtual-service/<name>``.
    """
    needle = f"/namespaces/{namespace}/virtual-service/{name}"
    return lambda dump: needle in json.dumps(dump)


def contains_text(*texts: str) -> Callable[[JsonObject], bool]:
    """True once every text appears somewhere in the dump (e.g. ``'"fixed_delay": "7s"'``)."""
    return lambda dump: all(t in json.dumps(dump) for t in texts)


def parse_stats(text: str) -> dict[str, int]:
    """Envoy's text ``/stats``: ``name: value`` lines; histograms (non-integers) are skipped."""
    stats: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, value = line.rpartition(": ")
        if sep and value.strip().lstrip("-").isdigit():
            stats[name.strip()] = int(value)
    return stats


# --- the backend ----------------------------------------------------------------------------------


@dataclass
class _State:
    undos: list[Undo] = field(default_factory=list)
    objects: dict[ObjectRef, int] = field(default_factory=dict)  # ref → index in undos
    scaled: set[tuple[str, str]] = field(default_factory=set)


class KubeBackend:
    def __init__(
        self,
        client: KubeClient,
        *,
        namespaces: Iterable[str],
        run_id: str,
        journal_dir: Path | None = None,
        conflict_retries: int = 5,
        exec_fn: ExecFn | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not run_id or len(run_id) > 63 or not _LABEL_VALUE.match(run_id):
            raise ConfigError(
                f"run id {run_id!r} is not a Kubernetes label value (at most 63 of A-Z a-z "
                "0-9 - _ ., starting and ending with a letter or digit)"
            )
        self.client = client
        self.namespaces = frozenset(namespaces)
        if not self.namespaces:
            raise ConfigError("an experiment must declare the namespaces it may change")
        self.run_id = run_id
        self.journal = Journal(journal_dir / f"{run_id}.json") if journal_dir else None
        self.journal_dir = journal_dir
        self.conflict_retries = conflict_retries
        self._exec = exec_fn or self._exec_via_api
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.RLock()
        self._state = _State()
        self._identity: TargetIdentity | None = None
        self.notices: list[str] = []  # one line each: what recover() left alone, and why
        # Objects rollback left as somebody else changed them: nothing of this run's may
        # write them again (the session's reset included).
        self.left_to_others: set[ObjectRef] = set()

    @property
    def identity(self) -> TargetIdentity:
        """The cluster this backend changes, as its journal records it (read once)."""
        if self._identity is None:
            self._identity = self.client.identity()
        return self._identity

    def _save_journal(self) -> None:
        if self.journal is None:
            return
        if not self._state.undos:
            self.journal.clear()
            return
        self.journal.target = self.identity
        self.journal.write(self._state.undos)

    @property
    def run_selector(self) -> str:
        return f"{RUN_LABEL}={self.run_id}"

    @property
    def pending(self) -> list[str]:
        """What rollback would undo, newest first."""
        with self._lock:
            return [u.describe() for u in reversed(self._state.undos)]

    # --- blast radius ------------------------------------------------------------------------

    def check_namespace(self, namespace: str, what: str) -> None:
        if namespace not in self.namespaces:
            allowed = ", ".join(sorted(self.namespaces))
            raise BlastRadiusError(
                f"refusing to {what}: namespace {namespace!r} is outside the experiment's "
                f"blast radius ({allowed}); declare it in the experiment to change it"
            )

    # --- the undo list -------------------------------------------------------------------------

    def _remember(self, undo: Undo) -> None:
        state = self._state
        if isinstance(undo, ObjectUndo):
            index = state.objects.get(undo.ref)
            if index is not None:
                tracked = state.undos[index]
                if isinstance(tracked, ObjectUndo) and tracked.written:
                    return  # the first snapshot is what the run must restore
                state.undos[index] = undo  # nothing written yet: a fresher read wins
            else:
                state.objects[undo.ref] = len(state.undos)
                state.undos.append(undo)
        else:
            key = (undo.namespace, undo.deployment)
            if key in state.scaled:
                return
            state.scaled.add(key)
            state.undos.append(undo)
        self._save_journal()

    def _tracked(self, ref: ObjectRef) -> ObjectUndo | None:
        index = self._state.objects.get(ref)
        undo = self._state.undos[index] if index is not None else None
        return undo if isinstance(undo, ObjectUndo) else None

    def _wrote(self, ref: ObjectRef, version: str, *, deleted: bool = False) -> None:
        """Record what the run's write left (``version`` "" when its outcome is unknown)."""
        index = self._state.objects.get(ref)
        undo = self._state.undos[index] if index is not None else None
        if index is None or not isinstance(undo, ObjectUndo):
            return
        self._state.undos[index] = ObjectUndo(
            ref, undo.before, written=True, version=version, deleted=deleted
        )
        self._save_journal()

    # --- Istio resources --------------------------------------------------------------------------

    @staticmethod
    def _body(resource: Any) -> JsonObject:
        if isinstance(resource, Mapping):
            return copy.deepcopy(dict(resource))
        to_dict = getattr(resource, "to_yaml_dict", None)
        if to_dict is None:
            raise ConfigError(f"cannot apply {type(resource).__name__}: not an Istio resource")
        return dict(to_dict())

    def _ref(self, body: JsonObject, namespace: str | None) -> ObjectRef:
        kind = str(body.get("kind") or "")
        if kind not in RESOURCE_TYPES:
            raise ConfigError(
                f"kind {kind!r} is not an Istio networking resource this backend manages "
                f"({', '.join(sorted(RESOURCE_TYPES))})"
            )
        metadata = body.get("metadata") or {}
        name = str(metadata.get("name") or "")
        if not name:
            raise ConfigError(f"{kind} has no metadata.name")
        ns = namespace or str(metadata.get("namespace") or "")
        if not ns:
            raise ConfigError(f"{kind} {name} has no namespace; give one")
        return ObjectRef(kind, ns, name)

    @staticmethod
    def _version(body: JsonObject) -> str:
        return str(body.get("apiVersion", "")).rpartition("/")[2] or "v1"

    def _backoff(self, attempt: int) -> None:
        self._sleep(min(0.05 * 2**attempt, 1.0))

    def preflight(
        self, apply: Iterable[Any] = (), delete: Iterable[tuple[str, str, str]] = ()
    ) -> list[PlannedChange]:
        """What :meth:`apply` and :meth:`delete` would do, without doing it.

        Every change outside the blast radius is named in one :class:`BlastRadiusError`.
        """
        planned: list[PlannedChange] = []
        refused: list[str] = []
        items: list[tuple[str, ObjectRef, JsonObject | None]] = []
        for resource in apply:
            parsed = self._body(resource)
            items.append(("apply", self._ref(parsed, None), parsed))
        for kind, namespace, name in delete:
            items.append(
                ("delete", self._ref({"kind": kind, "metadata": {"name": name}}, namespace), None)
            )
        for _verb, ref, _body in items:
            if ref.namespace not in self.namespaces:
                refused.append(ref.describe())
        if refused:
            allowed = ", ".join(sorted(self.namespaces))
            raise BlastRadiusError(
                f"refusing the change set: outside the blast radius ({allowed}): "
                + "; ".join(refused)
            )
        for verb, ref, body in items:
            current = self.client.get_object(ref.plural, ref.namespace, ref.name)
            if verb == "delete":
                planned.append(
                    PlannedChange(
                        "delete" if current else "absent",
                        ref,
                        "" if current else "nothing to delete",
                    )
                )
            elif current is None:
                planned.append(PlannedChange("create", ref, f"labelled {self.run_selector}"))
            elif self._same(current, self._desired(body or {})):
                planned.append(PlannedChange("unchanged", ref))
            else:
                rv = current["metadata"].get("resourceVersion", "?")
                planned.append(PlannedChange("replace", ref, f"from resourceVersion {rv}"))
        return planned

    @staticmethod
    def _same(current: JsonObject, body: JsonObject) -> bool:
        cur_meta, new_meta = current.get("metadata") or {}, body.get("metadata") or {}
        return (
            current.get("spec") == body.get("spec")
            and (cur_meta.get("labels") or {}) == (new_meta.get("labels") or {})
            and (cur_meta.get("annotations") or {}) == (new_meta.get("annotations") or {})
        )

    def _desired(self, body: JsonObject) -> JsonObject:
        """``body`` as it replaces an existing object: marked with this run's annotation."""
        desired = copy.deepcopy(body)
        metadata = desired.setdefault("metadata", {})
        metadata["annotations"] = {
            **(metadata.get("annotations") or {}),
            MODIFIED_ANNOTATION: self.run_id,
        }
        return desired

    def _write(
        self, ref: ObjectRef, request: Callable[[], JsonObject], *, deleting: str | None = None
    ) -> JsonObject:
        """Send a write; unless it was refused with 409 its outcome may be in effect, so the
        snapshot taken before it is frozen from now on, with the resourceVersion the write
        got (unknown when it got no answer). ``deleting``: the resourceVersion deleted."""
        try:
            result = request()
        except Conflict:
            raise
        except BackendError:
            if deleting is not None:  # still there at that version: the delete did not land
                self._wrote(ref, deleting, deleted=True)
            else:
                self._wrote(ref, "")
            raise
        if deleting is not None:
            self._wrote(ref, deleting, deleted=True)
        else:
            self._wrote(ref, _rv(result))
        return result

    def apply(self, resource: Any, namespace: str | None = None) -> Change:
        """Create or replace a whole Istio object, after snapshotting what was there."""
        body = self._body(resource)
        body.pop("status", None)
        ref = self._ref(body, namespace)
        self.check_namespace(ref.namespace, f"apply {ref.describe()}")
        version = self._version(body)
        metadata = body.setdefault("metadata", {})
        metadata["namespace"] = ref.namespace
        for key in SERVER_FIELDS:
            metadata.pop(key, None)
        with self._lock:
            for attempt in range(self.conflict_retries + 1):
                current = self.client.get_object(ref.plural, ref.namespace, ref.name)
                self._remember(ObjectUndo(ref, clean(current)))
                try:
                    if current is None:
                        created = copy.deepcopy(body)
                        created["metadata"]["labels"] = {
                            **(metadata.get("labels") or {}),
                            RUN_LABEL: self.run_id,
                        }
                        result = self._write(
                            ref,
                            partial(
                                self.client.create_object,
                                ref.plural,
                                ref.namespace,
                                created,
                                version,
                            ),
                        )
                        return Change("created", ref, _rv(result))
                    desired = self._desired(body)
                    if self._same(current, desired):
                        return Change("unchanged", ref, _rv(current))
                    desired["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                    result = self._write(
                        ref,
                        partial(
                            self.client.replace_object,
                            ref.plural,
                            ref.namespace,
                            ref.name,
                            desired,
                            version,
                        ),
                    )
                    return Change("configured", ref, _rv(result))
                except Conflict:
                    if attempt == self.conflict_retries:
                        raise
                    self._backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, kind: str, namespace: str, name: str) -> Change:
        """Delete an Istio object, after snapshotting it (rollback re-creates it)."""
        ref = self._ref({"kind": kind, "metadata": {"name": name}}, namespace)
        self.check_namespace(namespace, f"delete {ref.describe()}")
        with self._lock:
            current = self.client.get_object(ref.plural, ref.namespace, ref.name)
            if current is None:
                return Change("absent", ref)
            self._remember(ObjectUndo(ref, clean(current)))
            version = _rv(current)
            self._write(
                ref,
                lambda: {
                    "deleted": self.client.delete_object(
                        ref.plural, ref.namespace, ref.name, resource_version=version or None
                    )
                },
                deleting=version,
            )
            return Change("deleted", ref, version)

    # --- rollback ---------------------------------------------------------------------------------

    def rollback(self) -> list[str]:
        """Undo every change of this run, newest first. What failed stays pending (in memory
        and in the journal), so a later call or run can retry it; what somebody else changed
        since is left as it is. Both are raised at the end, after everything else."""
        with self._lock:
            undos = list(reversed(self._state.undos))
            done, failed, conflicts = self._undo_all(undos)
            self._state = _State()
            for undo in reversed(undos):  # kept, so that rollback() can be called again
                if undo.describe() in failed:
                    self._remember(undo)
            self._save_journal()
            if failed or conflicts:
                raise self._rollback_error(failed, conflicts)
            return done

    def restore(self, undos: Sequence[Undo]) -> list[str]:
        """Undo some of this run's changes (newest first) and stop tracking them; an
        experiment's own rollback, while the session's changes stay pending."""
        with self._lock:
            done, failed, conflicts = self._undo_all(list(reversed(undos)))
            gone = [u for u in undos if u.describe() not in failed]
            # An older snapshot of the same object (taken by the session) stays pending,
            # with the resourceVersion the restore gave it (updated by _restore_object).
            kept = [u for u in self._state.undos if not any(_same_undo(u, g) for g in gone)]
            self._state = _State()
            for undo in kept:
                self._remember(undo)
            self._save_journal()
            if failed or conflicts:
                raise self._rollback_error(failed, conflicts)
            return done

    def _rollback_error(self, failed: dict[str, str], conflicts: list[str]) -> RollbackError:
        parts = []
        if conflicts:
            parts.append(
                "rollback left these as somebody else changed them since this run's write "
                "(not overwritten):\n" + "\n".join(f"  - {c}" for c in conflicts)
            )
        if failed:
            parts.append(
                "rollback could not undo:\n"
                + "\n".join(f"  - {what}: {why}" for what, why in failed.items())
                + (f"\nthe journal {self.journal.path} keeps them" if self.journal else "")
            )
        return RollbackError("\n".join(parts), list(failed), conflicts)

    def _undo_all(self, undos: Sequence[Undo]) -> tuple[list[str], dict[str, str], list[str]]:
        """Undo each; returns what was done, what failed (description → why) and the
        conflicts (one message each)."""
        done: list[str] = []
        failed: dict[str, str] = {}
        conflicts: list[str] = []
        for undo in undos:
            if isinstance(undo, ObjectUndo) and undo.ref in self.left_to_others:
                done.append(f"{undo.describe()} left to somebody else's change (reported)")
                continue
            try:
                if isinstance(undo, ObjectUndo):
                    done.append(self._restore_object(undo))
                else:
                    done.append(self._restore_scale(undo))
            except _Changed as exc:
                conflicts.append(str(exc))
                self.left_to_others.add(exc.ref)
            except BackendError as exc:
                failed[undo.describe()] = str(exc)
        return done, failed, conflicts

    def _restore_object(self, undo: ObjectUndo) -> str:
        """Put one snapshot back, but only over the run's own last write.

        What the run wrote is the tracked entry for the object (or, replaying a journal,
        ``undo`` itself); ``undo.before`` is what to put back.
        """
        ref, before = undo.ref, undo.before
        tracked = self._tracked(ref)
        wrote = tracked if tracked is not None else undo
        if not wrote.written:
            return f"{ref.describe()} untouched (this run never wrote it)"
        current = self.client.get_object(ref.plural, ref.namespace, ref.name)
        if current is None:
            if before is None:
                return f"{ref.describe()} absent, as before"
            if not wrote.deleted:
                raise self._changed(
                    ref, before, "was deleted by somebody else after this run's write"
                )
            body = copy.deepcopy(before)
            try:
                created = self.client.create_object(
                    ref.plural, ref.namespace, body, self._version(body)
                )
            except Conflict:
                raise self._changed(
                    ref,
                    before,
                    "was re-created by somebody else after this run deleted it",
                    recreated=True,
                ) from None
            self._restored(tracked, _rv(created))
            return f"{ref.describe()} re-created"
        if before is not None and self._same(current, before):
            self._restored(tracked, _rv(current))
            return f"{ref.describe()} unchanged"
        now, expected = _rv(current), wrote.version
        if not expected:
            raise self._changed(
                ref,
                before,
                f"is at resourceVersion {now}, and this run's last write to it got no answer, "
                "so chaoskit cannot tell whether somebody else changed it since",
            )
        if now != expected:
            what = (
                f"was re-created by somebody else after this run deleted it (resourceVersion {now})"
                if wrote.deleted
                else f"was changed by somebody else after this run's write (resourceVersion "
                f"{expected} then, {now} now)"
            )
            raise self._changed(ref, before, what, recreated=wrote.deleted)
        try:
            if before is None:
                self.client.delete_object(
                    ref.plural, ref.namespace, ref.name, resource_version=expected
                )
                self._restored(tracked, expected, deleted=True)
                return f"{ref.describe()} deleted (the run created it)"
            body = copy.deepcopy(before)
            body.setdefault("metadata", {})["resourceVersion"] = expected
            result = self.client.replace_object(
                ref.plural, ref.namespace, ref.name, body, self._version(body)
            )
        except Conflict:
            raise self._changed(
                ref,
                before,
                f"was changed by somebody else while rollback wrote it (resourceVersion "
                f"{expected} was no longer current)",
            ) from None
        self._restored(tracked, _rv(result))
        return f"{ref.describe()} restored"

    def _restored(self, tracked: ObjectUndo | None, version: str, *, deleted: bool = False) -> None:
        """A restore is the run's own write too: an older snapshot still pending for the
        object (the session's) must expect the resourceVersion it left."""
        if tracked is not None:
            self._wrote(tracked.ref, version, deleted=deleted)

    def _changed(
        self, ref: ObjectRef, before: JsonObject | None, what: str, *, recreated: bool = False
    ) -> _Changed:
        """The conflict: which object, what changed, and how to resolve it by hand."""
        where = f"-n {ref.namespace} {ref.plural}.{GROUP} {ref.name}"
        if before is None:
            how = (
                "it did not exist before the run; it is left as somebody else made it"
                if recreated
                else f"the run had created it; if it should go: kubectl delete {where}"
            )
            return _Changed(ref, f"{ref.describe()} {what}; {how}")
        snapshot = self._save_snapshot(ref, before)
        if snapshot is not None:
            back = (
                f"the run's snapshot is in {snapshot}; check `kubectl get {where} -o yaml` and, "
                f"if the snapshot should win, `kubectl apply -f {snapshot}`"
            )
        else:
            back = (
                f"check `kubectl get {where} -o yaml`; the run's snapshot (spec): "
                f"{json.dumps(before.get('spec'), sort_keys=True)[:400]}"
            )
        return _Changed(ref, f"{ref.describe()} {what}; {back}")

    def _save_snapshot(self, ref: ObjectRef, before: JsonObject) -> Path | None:
        """Keep a conflicting object's snapshot beside the journals, for the person who
        resolves the conflict (not a journal: nothing replays it)."""
        if self.journal_dir is None:
            return None
        directory = self.journal_dir / "conflicts" / self.run_id
        path = directory / f"{ref.plural}.{ref.namespace}.{ref.name}.json"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(before, indent=1, sort_keys=True))
        except OSError:
            return None
        return path

    def _restore_scale(self, undo: ScaleUndo) -> str:
        self.client.patch_deployment(
            undo.namespace, undo.deployment, {"spec": {"replicas": undo.replicas}}
        )
        return f"deployment {undo.namespace}/{undo.deployment} scaled back to {undo.replicas}"

    # --- leftovers of crashed runs ----------------------------------------------------------------

    def sweep(self, label_selector: str = RUN_LABEL) -> list[str]:
        """Delete every Istio object in the blast radius that carries the label selector
        (default: created by any chaoskit run), except what this run is tracking."""
        removed: list[str] = []
        with self._lock:
            tracked = set(self._state.objects)
            for kind, rtype in sorted(RESOURCE_TYPES.items()):
                for namespace in sorted(self.namespaces):
                    for item in self.client.list_resources(rtype.plural, namespace, label_selector):
                        ref = ObjectRef(kind, namespace, item["metadata"]["name"])
                        if ref in tracked:
                            continue
                        if self.client.delete_object(rtype.plural, namespace, ref.name):
                            removed.append(ref.describe())
        return removed

    def recover(self) -> list[str]:
        """Replay the journals that other (crashed) runs left in the journal directory for
        this cluster. A journal written for another target (or that does not say) is left
        in place, never applied here; :attr:`notices` gets one line for each."""
        if self.journal_dir is None:
            return []
        restored: list[str] = []
        for journal in leftover_journals(self.journal_dir, self.run_id):
            why = target_mismatch(journal.read_target(), self.identity)
            if why:
                self.notices.append(
                    f"journal {journal.path} left in place, not replayed on "
                    f"{self.identity.describe()}: {why}"
                )
                continue
            undos = journal.read()
            for undo in undos:
                namespace = undo.ref.namespace if isinstance(undo, ObjectUndo) else undo.namespace
                self.check_namespace(namespace, f"recover {undo.describe()} from {journal.path}")
            done, failed, conflicts = self._undo_all(list(reversed(undos)))
            restored += done
            # Somebody else's change since the crash is theirs: say so, never overwrite it.
            self.notices += [f"recovering {journal.path}: {c}" for c in conflicts]
            if failed:
                raise RollbackError(
                    f"recovering {journal.path} failed:\n"
                    + "\n".join(f"  - {what}: {why}" for what, why in failed.items()),
                    list(failed),
                    conflicts,
                )
            journal.clear()
        return restored

    # --- pods and Deployments ---------------------------------------------------------------------

    def pods(self, namespace: str, label_selector: str = "") -> list[JsonObject]:
        return self.client.pods(namespace, label_selector)

    def kill_pod(self, namespace: str, name: str) -> None:
        """Delete a pod at once (grace period 0); its ReplicaSet starts a replacement."""
        self.check_namespace(namespace, f"kill pod {namespace}/{name}")
        self.client.call(
            "DELETE",
            f"/api/v1/namespaces/{namespace}/pods/{name}",
            query={"gracePeriodSeconds": "0"},
        )

    def scale(self, namespace: str, deployment: str, replicas: int) -> int:
        """Set a Deployment's replicas (e.g. ratings-faulty to 1); rollback restores the count.
        Returns the previous count."""
        self.check_namespace(namespace, f"scale deployment {namespace}/{deployment}")
        with self._lock:
            current = self.client.deployment(namespace, deployment)
            before = int((current.get("spec") or {}).get("replicas", 1))
            self._remember(ScaleUndo(namespace, deployment, before))
            self.client.patch_deployment(namespace, deployment, {"spec": {"replicas": replicas}})
            return before

    def wait_rollout(self, namespace: str, deployment: str, timeout_s: float = 300.0) -> JsonObject:
        """Wait like ``kubectl rollout status``: the newest generation observed and every
        desired replica updated and available."""
        deadline = self._clock() + timeout_s
        while True:
            obj = self.client.deployment(namespace, deployment)
            ready, state = _rollout_state(obj)
            if ready:
                return obj
            if self._clock() >= deadline:
                raise ReadinessTimeout(
                    f"deployment {namespace}/{deployment} did not finish rolling out within "
                    f"{timeout_s:g}s; last seen: {state}"
                )
            self._sleep(1.0)

    # --- the sidecars' admin endpoints ------------------------------------------------------------

    def _exec_via_api(
        self, namespace: str, pod: str, command: list[str], container: str
    ) -> ExecResult:
        return self.client.exec(namespace, pod, command, container=container)

    def admin(self, namespace: str, pod: str, path: str) -> str:
        """GET an Envoy admin path of a pod's sidecar (``pilot-agent request GET <path>``)."""
        command = ["pilot-agent", "request", "GET", path]
        result = self._exec(namespace, pod, command, PROXY_CONTAINER)
        if result.returncode != 0:
            detail = (result.stderr or result.message or result.stdout).strip()
            raise BackendError(
                f"admin GET {path} on {namespace}/{pod} (container {PROXY_CONTAINER}) exited "
                f"with {result.returncode}: {detail}"
            )
        return result.stdout

    def stats(self, namespace: str, pod: str, filter_regex: str = "") -> dict[str, int]:
        path = f"stats?filter={filter_regex}" if filter_regex else "stats"
        return parse_stats(self.admin(namespace, pod, path))

    def config_dump(self, namespace: str, pod: str) -> JsonObject:
        text = self.admin(namespace, pod, "config_dump")
        try:
            return dict(json.loads(text))
        except ValueError as exc:
            raise BackendError(
                f"config_dump of {namespace}/{pod} is not JSON ({exc}): {text[:200]!r}"
            ) from None

    def wait_for_config(
        self,
        namespace: str,
        pod: str,
        predicate: Callable[[JsonObject], bool],
        timeout_s: float = 30.0,
        interval_s: float = 0.5,
        what: str = "the new configuration",
    ) -> JsonObject:
        """Poll the sidecar's ``config_dump`` until ``predicate`` holds (Istio has no
        "config reached the proxies" signal since 1.23)."""
        deadline = self._clock() + timeout_s
        last = "the predicate was false"
        attempts = 0
        while True:
            attempts += 1
            try:
                dump = self.config_dump(namespace, pod)
                if predicate(dump):
                    return dump
                last = "the predicate was false"
            except BackendError as exc:
                last = str(exc)
            if self._clock() >= deadline:
                raise ReadinessTimeout(
                    f"the sidecar of {namespace}/{pod} did not have {what} within {timeout_s:g}s "
                    f"({attempts} config_dump reads; last: {last}); check `istioctl proxy-status` "
                    "and the istiod logs"
                )
            self._sleep(interval_s)

    # --- the abort guard --------------------------------------------------------------------------

    def abort_guard(
        self, floor: float, check_fn: Callable[[], float | None], name: str = "guard metric"
    ) -> AbortGuard:
        """An :class:`AbortGuard` whose trip rolls back this backend's changes."""
        return AbortGuard(floor, check_fn, on_trip=lambda _reason: self.rollback(), name=name)


def _same_undo(a: Undo, b: Undo) -> bool:
    if isinstance(a, ObjectUndo) and isinstance(b, ObjectUndo):
        return a.same_snapshot(b)
    return a == b


def _rv(obj: JsonObject) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _rollout_state(obj: JsonObject) -> tuple[bool, str]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    metadata = obj.get("metadata") or {}
    want = int(spec.get("replicas", 1))
    observed = int(status.get("observedGeneration", 0))
    generation = int(metadata.get("generation", 0))
    updated = int(status.get("updatedReplicas", 0))
    available = int(status.get("availableReplicas", 0))
    total = int(status.get("replicas", 0))
    state = (
        f"generation {generation} observed {observed}, replicas {total}, updated {updated}, "
        f"available {available} of {want}"
    )
    ready = observed >= generation and updated == want and available == want and total == want
    return ready, state

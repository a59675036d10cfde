"""What every service layer shares: who is asking, the audit entry of a change, the version check, and saving
an entity with its outgoing events and audit entry in one transaction (through the service's repository)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.repository import Aggregate, DomainEvent, encode, envelopes

AuditFactory = Callable[[str, str, Any, Any], dict[str, Any]]
E = TypeVar("E")


class SavingRepository(Protocol):
    def save(self, entity: Any, events: list[dict[str, Any]], audit: list[dict[str, Any]]) -> None: ...


class LoadingRepository(Protocol):
    def get(self, kind: type[E], entity_id: str) -> E | None: ...


@dataclass(frozen=True)
class Context:
    """Who is asking, how to record it in the audit log (None: as the producer's own system process), and
    the request to correlate events with."""

    principal: Principal
    audit: AuditFactory | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class Producer:
    """A service as the source of events: its name on the envelope, and the actor and process that sign the
    changes no person asked for (sweeps, seeds)."""

    name: str
    system_actor: str
    process: str
    event_version: int = 1

    def system_audit(self, action: str, target: str, before: Any = None, after: Any = None) -> dict[str, Any]:
        return {
            "actor": self.system_actor,
            "role": "system",
            "action": action,
            "target": target,
            "before": before,
            "after": after,
            "source": {"process": self.process},
        }

    def audit(self, ctx: Context, action: str, target: str, before: Any, after: Any) -> dict[str, Any]:
        """The audit entry of a change `ctx` asked for (as this producer's process when it has no own factory)."""
        return (ctx.audit or self.system_audit)(action, target, before, after)

    def commit(
        self,
        repo: SavingRepository,
        ctx: Context,
        entity: Aggregate,
        events: Iterable[DomainEvent],
        action: str,
        before: dict[str, Any] | None,
    ) -> None:
        """Save a change a caller asked for, audited as `action` with the entity before and after."""
        audit = self.audit(ctx, action, entity.id, before, encode(entity))
        self.save(repo, entity, events, audit, actor=ctx.principal.sub, correlation_id=ctx.correlation_id)

    def save(
        self,
        repo: SavingRepository,
        entity: Aggregate,
        events: Iterable[DomainEvent],
        audit: dict[str, Any],
        actor: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        actor = actor or self.system_actor
        stamped = envelopes(entity, events, self.name, self.event_version, actor, correlation_id)
        repo.save(entity, stamped, [audit])


def load(repo: LoadingRepository, kind: type[E], entity_id: str) -> E:
    entity = repo.get(kind, entity_id)
    if entity is None:
        raise NotFound(f"no {kind.__name__} {entity_id!r}")
    return entity


def check_version(entity: Aggregate, expected: int | None) -> None:
    """Optimistic concurrency from the client's `If-Match`: refuse a change to a version it has not seen."""
    if expected is not None and expected != entity.version:
        raise Conflict(f"version mismatch: {entity.id} is at version {entity.version}, not {expected}")

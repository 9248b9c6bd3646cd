"""Which asset tags exist, as far as the desk knows: a local projection of what assets announces (issue 13, item 9).

Assets owns the register and announces every tag it holds: `cmdb.ci_changed` for each item created or changed (the
demo seed included) and `cmdb.register_imported` with the imported tags in parts of 1,000. Intake keeps the tags in
its own database and refuses a ticket naming a tag it has never heard of, without asking assets at the moment of
the ticket (a call would make the desk depend on assets being up).

Until the projection has seen one tag, every tag is accepted: a desk that runs without assets, or starts before the
first announcement has arrived, must still take tickets; refusing every tag then would refuse every real report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .domain import InvalidField
from .texts import Said


class KnownTags(Protocol):
    async def add(self, tags: Iterable[str]) -> int:
        """Remember these tags (idempotent: a redelivered announcement changes nothing); returns how many were new."""
        ...

    async def any(self) -> bool:
        """True once at least one tag has been announced."""
        ...

    async def has(self, tag: str) -> bool: ...


def check(tag: str | None, *, known: bool, projection_empty: bool) -> None:
    """The rule: a ticket may name no tag, a tag assets announced, or any tag while nothing has been announced yet."""
    if tag is None or known or projection_empty:
        return
    raise InvalidField(("body", "asset_tag"), Said("err.asset_unknown", tag=tag))


async def require_known(tag: str | None, tags: KnownTags | None) -> None:
    """Refuse (422 on asset_tag) a tag the projection does not know; no projection wired means nothing to check."""
    if tag is None or tags is None:
        return
    if await tags.has(tag):
        return
    check(tag, known=False, projection_empty=not await tags.any())


async def record(tags: Iterable[str], store: KnownTags) -> int:
    """Assets announced these tags: remember them (blank entries are not tags)."""
    return await store.add(t.strip() for t in tags if t and t.strip())

"""The knowledge service's own database. Every hot read and write addresses one document by `_id` (FerretDB v1
answers nothing else from an index); the scans are the index build at start-up and the small problem lists."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Binary
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

import opsdesk_shared.audit_store as audit_store
from opsdesk_shared.audit_chain import DEVELOPMENT_KEY, Verdict
from opsdesk_shared.contracts import Envelope
from opsdesk_shared.group_commit import GroupCommit, Round
from opsdesk_shared.mongo import Document, document_lock, modify, update_if
from opsdesk_shared.outbox import OUTBOX_FIELD, mark_pending, outbox_fields, outbox_push, strip_outbox

from ..domain import Article, ArticleVersion
from ..ports import ConcurrentUpdate, Suggestion
from ..problems import Candidate, Incident, Problem


def _load(doc: Document) -> Document:
    fields = strip_outbox(doc)
    fields["id"] = fields.pop("_id")
    return fields


def _article(doc: Document) -> Article:
    return Article.model_validate(audit_store.unsealed(_load(doc), audit_store.ARTICLE_LOG))


def _store(model: Any) -> Document:
    doc: Document = model.model_dump()
    doc["_id"] = doc.pop("id")
    return doc


async def _save_rev(collection: AsyncCollection[Document], model: Any, events: Sequence[Envelope], *, doc: Document | None = None) -> Any:
    """`doc`: the document to write when not simply the model's (an article's, with its log sealed)."""
    doc = doc if doc is not None else _store(model)
    doc_id = doc.pop("_id")
    doc["rev"] = model.rev + 1
    update: Document = {"$set": doc}
    if events:
        update["$push"] = outbox_push(events)
    if not await update_if(collection, doc_id, expect={"rev": model.rev}, update=update):
        raise ConcurrentUpdate(doc_id)
    return model.model_copy(update={"rev": model.rev + 1})


async def _bump(counters: AsyncCollection[Document], key: str) -> int:
    async with document_lock(counters, key):
        doc = await counters.find_one_and_update(
            {"_id": key}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
    assert doc is not None
    return int(doc["seq"])


class MongoArticleStore:
    """Articles (their events noted with `mark_pending`: relay them with `markers=True`), their version history (`article_versions`, by `<id>:<version>`) and a change log for other instances."""

    # A gap in the change log (a writer between its counter bump and its log entry) is waited for this many reads.
    GAP_PATIENCE = 3

    def __init__(self, db: AsyncDatabase[Document], *, audit_key: bytes = DEVELOPMENT_KEY) -> None:
        self.collection = db["articles"]
        self._versions = db["article_versions"]
        # The log of each article and each version document are sealed in chain (audit_store.ARTICLE_LOG, ARTICLE_VERSIONS).
        self._key = audit_key
        self._counters = db["counters"]
        self._changes = db["article_changes"]
        self._gap_seen: dict[int, int] = {}

    async def get(self, article_id: str) -> Article | None:
        doc = await self.collection.find_one({"_id": article_id})
        return _article(doc) if doc else None

    async def _version(self, version: ArticleVersion) -> None:
        doc = version.model_dump()
        doc["_id"] = audit_store.ARTICLE_VERSIONS.doc_id(version.article_id, version.version)
        doc = await audit_store.seal_record(self._versions, audit_store.ARTICLE_VERSIONS, doc, key=self._key)
        await self._versions.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def _changed(self, article_id: str) -> None:
        seq = await _bump(self._counters, "article_changes")
        await self._changes.insert_one({"_id": seq, "article_id": article_id})

    async def add(self, article: Article, version: ArticleVersion, events: Sequence[Envelope]) -> None:
        await self._version(version)
        if events:
            await mark_pending(self.collection, article.id)
        try:
            doc = audit_store.seal_fields(_store(article), None, audit_store.ARTICLE_LOG, key=self._key)
            await self.collection.insert_one({**doc, **outbox_fields(events)})
        except DuplicateKeyError:
            raise ConcurrentUpdate(article.id) from None
        await self._changed(article.id)

    async def save(self, article: Article, version: ArticleVersion | None, events: Sequence[Envelope]) -> Article:
        # The log's stored seals at this revision: the update below writes only if the revision is still this one.
        current = await self.collection.find_one({"_id": article.id, "rev": article.rev}, {"log": 1})
        if current is None:
            raise ConcurrentUpdate(article.id)
        if version is not None:
            await self._version(version)
        if events:
            await mark_pending(self.collection, article.id)
        doc = audit_store.seal_fields(_store(article), current, audit_store.ARTICLE_LOG, key=self._key)
        stored: Article = await _save_rev(self.collection, article, events, doc=doc)
        await self._changed(article.id)
        return stored

    async def versions(self, article_id: str) -> list[ArticleVersion]:
        article = await self.get(article_id)
        if article is None:
            return []
        found = []
        for n in range(1, article.version + 1):
            doc = await self._versions.find_one({"_id": f"{article_id}:{n}"})
            if doc is not None:
                doc.pop("_id")
                found.append(ArticleVersion.model_validate({k: v for k, v in doc.items() if k not in audit_store.SEALS}))
        return found

    async def audit_verify(self) -> Verdict:
        """Every article's log and chain of versions, streamed (GET /api/v1/audit/verify)."""
        return audit_store.combined([
            await audit_store.verify_collection(self.collection, audit_store.ARTICLE_LOG, key=self._key),
            await audit_store.verify_record_collection(self._versions, audit_store.ARTICLE_VERSIONS, key=self._key),
        ])

    async def all(self) -> list[Article]:
        return [_article(doc) async for doc in self.collection.find({}, {"_outbox": 0})]

    async def change_seq(self) -> int:
        doc = await self._counters.find_one({"_id": "article_changes"})
        return int(doc["seq"]) if doc else 0

    async def changed_since(self, seq: int, *, limit: int) -> tuple[list[str], int] | None:
        current = await self.change_seq()
        if current - seq > limit:
            return None
        ids: list[str] = []
        reached = seq
        for n in range(seq + 1, current + 1):
            doc = await self._changes.find_one({"_id": n})
            if doc is None:
                self._gap_seen[n] = self._gap_seen.get(n, 0) + 1
                if self._gap_seen[n] < self.GAP_PATIENCE:
                    break
                return None  # a writer died between bump and log: reload everything once and move past it
            self._gap_seen.pop(n, None)
            ids.append(doc["article_id"])
            reached = n
        return list(dict.fromkeys(ids)), reached


class MongoAttachmentStore:
    """File bytes in chunk documents (`<file id>:<n>`, at most 255 KiB each), read back one by one by `_id`."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._chunks = db["attachment_chunks"]

    async def write_chunk(self, file_id: str, n: int, data: bytes) -> None:
        key = f"{file_id}:{n}"
        await self._chunks.replace_one({"_id": key}, {"_id": key, "data": Binary(data)}, upsert=True)

    async def read_chunks(self, file_id: str, count: int) -> AsyncIterator[bytes]:
        for n in range(count):
            doc = await self._chunks.find_one({"_id": f"{file_id}:{n}"})
            if doc is None:
                raise LookupError(f"chunk {n} of {file_id} is missing")
            yield bytes(doc["data"])

    async def delete(self, file_id: str, count: int) -> None:
        for n in range(count):
            await self._chunks.delete_one({"_id": f"{file_id}:{n}"})


def _safe_key(key: str) -> str:
    return key.replace(".", "_").replace("$", "_")


class _CountRound(Round):
    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.inc: dict[str, int] = {}


class MongoSuggestionStore:
    """One document per ticket (one per ticket ever). Its events are written by the ticket.created handler without a
    pending marker (issue 17: the message is acknowledged only after they are published, and its redelivery relays
    what a crash left, `relay_now`); the relay runs with markers, noted when a publish fails."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["suggestions"]
        self._stats = db["kb_stats"]
        self._counts: GroupCommit[_CountRound] = GroupCommit(_CountRound, self._store_counts)

    async def add(self, suggestion: Suggestion, events: Sequence[Envelope]) -> bool:
        doc = suggestion.model_dump()
        doc["_id"] = doc.pop("ticket_id")
        try:
            await self.collection.insert_one({**doc, **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        return True

    async def get(self, ticket_id: str) -> Suggestion | None:
        doc = await self.collection.find_one({"_id": ticket_id}, {"_outbox": 0})
        if doc is None:
            return None
        doc["ticket_id"] = doc.pop("_id")
        return Suggestion.model_validate(doc)

    async def resolve(self, ticket_id: str, *, article_id: str | None, at_desk: bool, at: datetime) -> Suggestion | None:
        decided: dict[str, Any] = {}

        def decide(doc: Document | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
            if doc is None or doc.get("resolved_at") is not None:
                return None
            suggested = {a["article_id"] for a in doc.get("articles") or []}
            fields = {
                "resolved_at": at, "resolved_article_id": article_id, "resolved_at_desk": at_desk,
                "deflected": article_id is not None and article_id in suggested,
            }
            decided.update(fields)
            return {"resolved_at": None}, {"$set": fields}

        read: dict[str, Any] = {}

        def decide_and_keep(doc: Document | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
            decision = decide(doc)
            if decision is not None and doc is not None:
                read.clear()
                read.update(doc)
            return decision

        if not await modify(self.collection, ticket_id, decide_and_keep):
            return None
        # The document as read and changed under the lock (issue 17: reading it back was one more command a ticket).
        fields = {k: v for k, v in read.items() if k not in ("_id", OUTBOX_FIELD)}
        return Suggestion.model_validate({**fields, **decided, "ticket_id": ticket_id})

    async def reopen(self, ticket_id: str) -> Suggestion | None:
        before: dict[str, Any] = {}

        def decide(doc: Document | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
            if doc is None or doc.get("resolved_at") is None:
                return None
            before.update(doc)
            cleared = {"resolved_at": None, "resolved_article_id": None, "resolved_at_desk": None, "deflected": False}
            return {"resolved_at": doc["resolved_at"]}, {"$set": cleared}

        if not await modify(self.collection, ticket_id, decide):
            return None
        fields = {k: v for k, v in before.items() if k not in ("_id", "_outbox")}
        return Suggestion.model_validate({**fields, "ticket_id": ticket_id})

    async def count(self, counters: dict[str, int], *, article_id: str | None = None, article_delta: int = 1) -> None:
        """Add to the deflection totals. Every ticket adds to the one document: the handlers counting at the same
        time are summed into one `$inc` per round (group commit, issue 17), and each returns once its round is stored."""
        inc: dict[str, int] = {f"totals.{_safe_key(k)}": v for k, v in counters.items()}
        if article_id is not None:
            inc[f"articles.{_safe_key(article_id)}"] = article_delta
        round_ = self._counts.open
        round_.units += 1
        for path, n in inc.items():
            round_.inc[path] = round_.inc.get(path, 0) + n
        await self._counts.commit(round_)

    async def _store_counts(self, round_: _CountRound) -> None:
        if round_.inc:
            async with document_lock(self._stats, "deflection"):
                await self._stats.update_one({"_id": "deflection"}, {"$inc": round_.inc}, upsert=True)

    async def totals(self) -> tuple[dict[str, int], dict[str, int]]:
        doc = await self._stats.find_one({"_id": "deflection"}) or {}
        return dict(doc.get("totals") or {}), dict(doc.get("articles") or {})


TERM_SEPARATOR = "\x1f"


def _as_stored(entry: Document) -> Document:
    """An entry as the database gives it back: times in UTC to the millisecond (BSON dates)."""
    out = copy.deepcopy(entry)
    for k, v in out.items():
        if isinstance(v, datetime):
            v = v.astimezone(UTC) if v.tzinfo else v.replace(tzinfo=UTC)
            out[k] = v.replace(microsecond=v.microsecond // 1000 * 1000)
    return out


class MongoIncidentStore:
    """One small document per ticket, plus per-service and per-asset buckets of recent incidents (the only way to
    find "recent on this asset" without scanning on FerretDB)."""

    def __init__(self, db: AsyncDatabase[Document], *, retention: timedelta = timedelta(days=90), bucket_cap: int = 150) -> None:
        self._incidents = db["incidents"]
        self._buckets = db["incident_buckets"]
        self._retention = retention
        self._cap = bucket_cap
        self._just_written: dict[str, list[Document]] = {}

    async def add(self, incident: Incident) -> bool:
        return incident.ticket_id in await self.add_many([incident])

    async def add_many(self, incidents: Sequence[Incident]) -> set[str]:
        """One insert for the batch, then one rewrite of each bucket it touches (issue 14: a burst of alike tickets
        rewrote the same 150-entry service bucket once a ticket, one ticket after the other)."""
        batch = list({i.ticket_id: i for i in incidents}.values())
        if not batch:
            return set()
        docs = []
        for incident in batch:
            doc = incident.model_dump()
            doc["_id"] = doc.pop("ticket_id")
            docs.append(doc)
        duplicate: set[int] = set()
        try:
            await self._incidents.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if any(e.get("code") != 11000 for e in errors):
                raise
            duplicate = {int(e["index"]) for e in errors}
        added = [incident for n, incident in enumerate(batch) if n not in duplicate]
        by_key: dict[str, list[Incident]] = {}
        for incident in added:
            for key in [f"svc:{incident.service_code}"] + ([f"asset:{incident.asset_tag}"] if incident.asset_tag else []):
                by_key.setdefault(key, []).append(incident)
        try:
            for key, members in by_key.items():
                entries_new = []
                for incident in members:
                    entry = incident.model_dump(exclude={"group_id", "problem_id"})
                    # One string instead of an array: FerretDB converts every array element on every read and
                    # rewrite of the bucket, and a bucket holds up to `bucket_cap` incidents.
                    entry["terms"] = TERM_SEPARATOR.join(incident.terms)
                    entries_new.append(entry)
                ids = {e["ticket_id"] for e in entries_new}
                cutoff = max(i.reported_at for i in members) - self._retention
                async with document_lock(self._buckets, key):
                    bucket = await self._buckets.find_one({"_id": key}) or {"entries": []}
                    entries = [e for e in bucket["entries"] if e["reported_at"] >= cutoff and e["ticket_id"] not in ids]
                    entries = [*entries, *entries_new][-self._cap :]
                    await self._buckets.replace_one({"_id": key}, {"_id": key, "entries": entries}, upsert=True)
                    self._just_written[key] = [_as_stored(e) for e in entries]
        except BaseException:
            for key in by_key:
                self._just_written.pop(key, None)  # a failed add leaves nothing for `recent` to trust
            raise
        return {i.ticket_id for i in added}

    async def get(self, ticket_id: str) -> Incident | None:
        doc = await self._incidents.find_one({"_id": ticket_id})
        if doc is None:
            return None
        doc["ticket_id"] = doc.pop("_id")
        return Incident.model_validate(doc)

    async def recent(self, *, service_code: str, asset_tag: str | None, since: datetime) -> list[Incident]:
        keys = [f"svc:{service_code}"] + ([f"asset:{asset_tag}"] if asset_tag else [])
        found: dict[str, Incident] = {}
        for key in keys:
            # Detection asks right after `add` wrote these buckets: what it wrote is what they hold (issue 17: the
            # read back was one or two commands a ticket). Used once; anything else reads the database.
            written = self._just_written.pop(key, None)
            bucket = {"entries": written} if written is not None else await self._buckets.find_one({"_id": key})
            for entry in (bucket or {}).get("entries") or []:
                if entry["reported_at"] >= since:
                    terms = entry["terms"]
                    entry["terms"] = terms.split(TERM_SEPARATOR) if isinstance(terms, str) and terms else (terms or [])
                    found[entry["ticket_id"]] = Incident.model_validate(entry)
        return list(found.values())

    async def link(self, ticket_ids: Sequence[str], *, group_id: str | None = None, problem_id: str | None = None) -> None:
        fields = {k: v for k, v in (("group_id", group_id), ("problem_id", problem_id)) if v is not None}
        if not fields:
            return
        for ticket_id in ticket_ids:
            await self._incidents.update_one({"_id": ticket_id}, {"$set": fields})


class MongoCandidateStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._candidates = db["problem_candidates"]

    async def add(self, candidate: Candidate) -> bool:
        try:
            await self._candidates.insert_one(_store(candidate))
        except DuplicateKeyError:
            return False
        return True

    async def get(self, candidate_id: str) -> Candidate | None:
        doc = await self._candidates.find_one({"_id": candidate_id})
        return Candidate.model_validate(_load(doc)) if doc else None

    async def save(self, candidate: Candidate) -> Candidate:
        stored: Candidate = await _save_rev(self._candidates, candidate, [])
        return stored

    async def join(self, candidate_id: str, ticket_id: str, *, score: float, now: datetime) -> Candidate | None:
        # A merge, not a replace: $addToSet and $max commute, so joins never conflict with each other (issue 14:
        # a burst of alike tickets lost five races in a row on one candidate and was dead-lettered). Only the status
        # is a condition: a confirm or dismiss in between makes the join miss, and the incident is placed again.
        def decide(doc: Document | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
            if doc is None or doc.get("status") != "pending" or ticket_id in (doc.get("incident_ids") or []):
                return None
            return {"status": "pending"}, {
                "$addToSet": {"incident_ids": ticket_id}, "$max": {"score": score}, "$set": {"updated_at": now},
                "$inc": {"rev": 1},
            }

        await modify(self._candidates, candidate_id, decide)
        found = await self.get(candidate_id)
        return found if found is not None and found.status == "pending" and ticket_id in found.incident_ids else None

    async def join_many(self, candidate_id: str, ticket_ids: Sequence[str], *, score: float, now: datetime) -> Candidate | None:
        """A batch's incidents in one merge ($addToSet $each): one write per batch per candidate."""
        wanted = list(dict.fromkeys(ticket_ids))
        if len(wanted) == 1:
            return await self.join(candidate_id, wanted[0], score=score, now=now)
        seen: list[Document | None] = []

        def decide(doc: Document | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
            seen.append(doc)
            if doc is None or doc.get("status") != "pending":
                return None
            new = [t for t in wanted if t not in (doc.get("incident_ids") or [])]
            if not new:
                return None
            return {"status": "pending"}, {
                "$addToSet": {"incident_ids": {"$each": new}}, "$max": {"score": score}, "$set": {"updated_at": now},
                "$inc": {"rev": 1},
            }

        written = await modify(self._candidates, candidate_id, decide)
        if not written and seen and seen[-1] is not None and seen[-1].get("status") == "pending":
            found: Candidate | None = Candidate.model_validate(_load(seen[-1]))  # every one was in it already
        else:
            found = await self.get(candidate_id)
        if found is None or found.status != "pending" or not set(wanted) <= set(found.incident_ids):
            return None
        return found

    async def list(self, *, status: str | None = None) -> list[Candidate]:
        query = {"status": status} if status else {}
        found = [Candidate.model_validate(_load(doc)) async for doc in self._candidates.find(query)]
        return sorted(found, key=lambda c: c.created_at, reverse=True)


class MongoProblemStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["problems"]
        self._counters = db["counters"]

    async def add(self, problem: Problem, events: Sequence[Envelope]) -> bool:
        try:
            await self.collection.insert_one({**_store(problem), **outbox_fields(events)})
        except DuplicateKeyError:
            return False
        return True

    async def get(self, problem_id: str) -> Problem | None:
        doc = await self.collection.find_one({"_id": problem_id})
        return Problem.model_validate(_load(doc)) if doc else None

    async def save(self, problem: Problem, events: Sequence[Envelope]) -> Problem:
        stored: Problem = await _save_rev(self.collection, problem, events)
        return stored

    async def add_recurrence(self, problem_id: str, ticket_id: str, *, now: datetime) -> bool:
        # A merge, as MongoCandidateStore.join: recurrences arrive in bursts, exactly when a problem recurs.
        def decide(doc: Document | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
            if doc is None or ticket_id in (doc.get("incident_ids") or []):
                return None
            return {"incident_ids": {"$ne": ticket_id}}, {
                "$addToSet": {"incident_ids": ticket_id, "recurrence_ids": ticket_id}, "$set": {"updated_at": now},
                "$inc": {"rev": 1},
            }

        return await modify(self.collection, problem_id, decide)

    async def list(self, *, state: str | None = None) -> list[Problem]:
        query = {"state": state} if state else {}
        found = [Problem.model_validate(_load(doc)) async for doc in self.collection.find(query, {"_outbox": 0})]
        return sorted(found, key=lambda p: p.created_at, reverse=True)

    async def next_number(self, year: int) -> str:
        return f"PRB-{year}-{await _bump(self._counters, f'problem_number:{year}'):04d}"

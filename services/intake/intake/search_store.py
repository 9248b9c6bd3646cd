"""The ticket index on disk: one SQLite file per gateway replica (stdlib sqlite3, WAL), so the search needs neither
a full copy of every ticket in memory nor a full reload from the database at start.

- `tickets`: one row per ticket with the filter and sort columns (indexed; the default order, newest first, has an
  index per common queue filter so a queue page is an index range read) and the list summary the API returns (JSON).
- `terms`: an FTS5 table of the ticket's precomputed search terms (search.terms_of: English words, Chinese pairs and
  title characters, folded to simplified script), space-joined. The `ascii` tokenizer keeps each term whole (every
  non-ASCII character is a token character, and `._-@` are declared so), and `detail=none` keeps presence only: a
  query is the AND of its terms, as before.
- `meta`: the schema version, whether the file holds a complete build, and the position in the events stream (the
  stream's creation time and the sequence of the last ticket event applied), from which a restart catches up
  (index_feed.py).

Rows are numbered in creation order (SLOT_BITS): free text in the default order (newest first) is the FTS match read
in rowid order, stopped after the page, with no sort and no join of the whole match set; a creation range is a range
of row numbers. A free-text total may be capped (`cap`: counted up to cap + 1, "more than cap"): counting every match
of a common word was most of such a search's time at a million tickets. A requester's view (own or the department's
tickets) is two index reads merged, and counted as two disjoint index counts, instead of an OR (issue 17).

Every write compares versions: an older read never overwrites a newer row (issue 14, defect 2).

Threads: the event loop writes and reads through one connection (a write is one short transaction; a search a few
index reads). `page_async`/`counts_async` (GET /tickets, /tickets/counts) read in a worker thread on a connection of
its own (WAL lets it read beside the writer), so a large count does not hold the loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .domain import Actor, Ticket
from .search import (
    FILTER_FIELDS,
    Query,
    Visibility,
    _folded,
    decode_cursor,
    encode_cursor,
    fields_of,
    query_terms,
    sort_keys_of,
    summary_of,
    terms_of,
    visibility,
)

# Bumped whenever the tables change shape or what a column means: a file of another version is rebuilt.
SCHEMA_VERSION = "5"  # 5: rows numbered in creation order, by_department_created (issue 17); 4: authorization (issue 16)
FIELD_COLUMNS = (*FILTER_FIELDS, "desk")
SORT_INDEXES = {"created_at": "by_created", "reported_at": "by_reported", "updated_at": "by_updated",
                "priority": "by_priority", "number": "by_number"}
SORT_COLUMNS = {"created_at": "created_key", "reported_at": "reported_key", "updated_at": "updated_key",
                "priority": "priority", "number": "number"}
DATETIME_KEYS = ("reported_at", "created_at", "updated_at", "held_since")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# The per-connection page cache (KiB, negative in SQLite's terms); the OS file cache does the rest.
CACHE_KIB = 16 * 1024
MMAP_BYTES = 256 * 2**20
# A row's number `n` (the tickets' primary key and the FTS rowid) is its place in the default order: the creation
# time in microseconds shifted left by SLOT_BITS, plus a slot that orders tickets created in the same microsecond by
# (created_key, id). So newest first is `n DESC`, and a free-text page is the first hits of the FTS match in rowid
# order: no sort of the match set, no count of it (issue 17). Times from 1970 to 2112 (UTC) fit; a ticket outside,
# or created in another offset than UTC, is numbered anyhow and the file marked unordered (`meta.ordered = 0`): the
# searches then take the plans that do not rely on the numbering, until the next build.
SLOT_BITS = 10
SLOTS = 1 << SLOT_BITS
MAX_ORDERED_US = 1 << (62 - SLOT_BITS)
# A free-text total is counted up to this many (the answer says "more than TEXT_TOTAL_CAP" beyond).
TEXT_TOTAL_CAP = 10_000

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tickets(
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    number TEXT NOT NULL,
    version INTEGER NOT NULL,
    {", ".join(f"{c} TEXT" for c in FIELD_COLUMNS if c not in ("priority",))},
    priority TEXT NOT NULL,
    created_key TEXT NOT NULL, reported_key TEXT NOT NULL, updated_key TEXT NOT NULL,
    created_us INTEGER NOT NULL, reported_us INTEGER NOT NULL, resolved_us INTEGER
);
-- Apart from the filter columns, so the rows a filter tests stay small and many to a page.
CREATE TABLE IF NOT EXISTS summaries(n INTEGER PRIMARY KEY, summary TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS terms USING fts5(t, tokenize="ascii tokenchars '._-@:'", detail=none, columnsize=0);
"""
# Tickets this process is about to change with no event of its own (service._apply_quietly): marked before the
# database write, cleared once the row is written. A mark found at start is a crash in between: the ticket is read
# again by id (index_feed). Created apart from _SCHEMA's version so an existing file keeps its rows.
_DIRTY = "CREATE TABLE IF NOT EXISTS dirty(id TEXT PRIMARY KEY) WITHOUT ROWID;"

# Secondary indexes, by name; a build drops them and makes them again at the end (faster than keeping them up to
# date row by row).
_INDEXES = """
CREATE INDEX IF NOT EXISTS by_number ON tickets(number, id);
CREATE INDEX IF NOT EXISTS by_created ON tickets(created_key, id);
CREATE INDEX IF NOT EXISTS by_reported ON tickets(reported_key, id);
CREATE INDEX IF NOT EXISTS by_updated ON tickets(updated_key, id);
CREATE INDEX IF NOT EXISTS by_priority ON tickets(priority, id);
CREATE INDEX IF NOT EXISTS by_status ON tickets(status, priority, department, channel, created_key, id);
CREATE INDEX IF NOT EXISTS by_resolution ON tickets(status, desk, resolved_us);
CREATE INDEX IF NOT EXISTS by_assignee ON tickets(assignee, created_key, id) WHERE assignee IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_requester ON tickets(requester, created_key, id) WHERE requester IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_department ON tickets(department, status, priority, channel, created_key, id)
    WHERE department IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_department_created ON tickets(department, created_key, id) WHERE department IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_handler ON tickets(handled_by, created_key, id) WHERE handled_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_held ON tickets(held, created_key, id) WHERE held IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_unassigned ON tickets(unassigned, created_key, id) WHERE unassigned IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_review ON tickets(review, created_key, id) WHERE review IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_emergency ON tickets(emergency, authorization, created_key, id) WHERE emergency IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_service ON tickets(service_code);
CREATE INDEX IF NOT EXISTS by_channel ON tickets(channel);
CREATE INDEX IF NOT EXISTS by_asset ON tickets(asset_tag) WHERE asset_tag IS NOT NULL;
CREATE INDEX IF NOT EXISTS by_type ON tickets(ticket_type);
"""

_ROW_COLUMNS = ("id", "number", "version", *FIELD_COLUMNS, "created_key", "reported_key", "updated_key",
                "created_us", "reported_us", "resolved_us")
# The row's number first (None: SQLite picks one, for a row the creation order cannot place).
_INSERT = f"INSERT INTO tickets(n, {', '.join(_ROW_COLUMNS)}) VALUES (?, {', '.join('?' for _ in _ROW_COLUMNS)})"
_UPDATE = f"UPDATE tickets SET {', '.join(f'{c} = ?' for c in _ROW_COLUMNS[1:])} WHERE n = ?"


def micros(moment: datetime) -> int:
    """A moment as microseconds since the epoch (a naive one is taken as UTC), for range filters."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MICROSECOND


def _row(ticket: Ticket) -> tuple[tuple[Any, ...], str]:
    """The ticket's row (in _ROW_COLUMNS order) and its summary as JSON."""
    fields = fields_of(ticket)
    keys = sort_keys_of(ticket)
    summary = json.dumps(summary_of(ticket), ensure_ascii=False, default=_jsonable, separators=(",", ":"))
    return (
        ticket.id, ticket.number, ticket.version, *(fields[c] for c in FIELD_COLUMNS), keys[0], keys[1], keys[2],
        micros(ticket.created_at), micros(ticket.reported_at),
        micros(ticket.resolved_at) if ticket.resolved_at is not None else None,
    ), summary


def ordered_micros(moment: datetime) -> int | None:
    """The creation time as the row number's high part (SLOT_BITS), or None when it cannot order the row as its
    created_key orders it: an offset other than UTC (the key is compared as text), or a time outside 1970-2112."""
    if moment.tzinfo is not None and moment.utcoffset() != timedelta(0):
        return None
    us = micros(moment)
    return us if 0 <= us < MAX_ORDERED_US else None


def _jsonable(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in a ticket summary")


def _summary(raw: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(raw)
    for key in DATETIME_KEYS:
        if isinstance(value := summary.get(key), str):
            summary[key] = datetime.fromisoformat(value)
    return summary


def facet(name: str, value: str) -> str:
    """A filter value as a term of the FTS table (`status:6e6577`): free text with filters is then one FTS query,
    the doclists intersected in SQLite's C, instead of a row read per text match. Hex keeps any value one token;
    a query's own terms never hold `:` (search._WORD), so text cannot name a facet."""
    return f"{name}:{value.encode().hex()}"


def _terms_text(ticket: Ticket, fields: dict[str, str | None]) -> str:
    facets = (facet(name, value) for name, value in fields.items() if value is not None)
    return " ".join(sorted(terms_of(ticket))) + " " + " ".join(facets)


def _any(values: Iterable[str]) -> str:
    quoted = ['"' + v.replace('"', '""') + '"' for v in sorted(values)]
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def _match(words: Iterable[str]) -> str:
    """An FTS5 query that needs every term, each quoted (a term may hold `-` or `.`)."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in sorted(words))


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL: a commit is not synced, a checkpoint is. A power cut can lose the last commits; the file's
    # stream position then lags too, so the next start replays what was lost (index_feed.py).
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    # Reads through a memory map: no system call and no copy per page (pages the OS may drop; they count in RSS
    # only while resident).
    db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    db.execute("PRAGMA temp_store=MEMORY")
    return db


def _summaries(db: sqlite3.Connection, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The list summaries of `ids`, in their order (ids the index lacks are left out)."""
    wanted = list(ids)
    if not wanted:
        return []
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = db.execute(
            "SELECT t.id, s.summary FROM tickets t JOIN summaries s ON s.n = t.n "
            f"WHERE t.id IN ({', '.join('?' for _ in chunk)})", chunk,
        )
        found.update((str(i), _summary(raw)) for i, raw in rows)
    return [found[i] for i in wanted if i in found]


class TicketIndex:
    LOCAL_MEMORY = 20_000

    def __init__(self, path: str | Path | None = None) -> None:
        """An index in the file at `path` (created when missing); without one, in a temporary file removed with
        this object (tests, and a replica that does not keep its index across restarts)."""
        self._tmp: str | None = None
        if path is None:
            self._tmp = tempfile.mkdtemp(prefix="intake-index-")
            path = Path(self._tmp) / "index.sqlite"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = _connect(self.path)
        self.ordered = True
        self._readers = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_lock = threading.Lock()
        self.needs_build = self._open_schema()
        self._local: dict[str, None] = {}
        self._changed_during_reload: set[str] | None = None
        self._counted: dict[tuple[Any, ...], int] = {}
        self._tally: Counter[tuple[str, str | None]] | None = None
        weakref.finalize(self, TicketIndex._cleanup, self._db, self._reader_conns, self._tmp)

    @staticmethod
    def _cleanup(db: sqlite3.Connection, readers: list[sqlite3.Connection], tmp: str | None) -> None:
        for conn in (db, *readers):
            with suppress(sqlite3.Error):
                conn.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    def close(self) -> None:
        self._cleanup(self._db, self._reader_conns, None)

    def _open_schema(self) -> bool:
        """Create the tables; a file of another schema version is emptied first. True when the file starts empty
        (it must be built from the database)."""
        db = self._db
        has_meta = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is not None
        version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() if has_meta else None
        if version is not None and version[0] == SCHEMA_VERSION:
            db.execute(_DIRTY)
            self.ordered = self.meta("ordered") == "1"
            return self.meta("complete") != "1"
        for (name, kind) in db.execute("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')").fetchall():
            if not name.startswith(("sqlite_", "terms_")):
                db.execute(f'DROP {"TABLE" if kind == "table" else "VIEW"} IF EXISTS "{name}"')
        db.executescript(_SCHEMA)
        db.execute(_DIRTY)
        db.executescript(_INDEXES)
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
        self._set_ordered(True)
        return True

    def _set_ordered(self, ordered: bool) -> None:
        """Whether every row's number is its place in the default order (SLOT_BITS): the plans that use it are
        taken only then."""
        self.ordered = ordered
        self.set_meta(ordered="1" if ordered else "0")

    # --- the file's own bookkeeping ---------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row is not None else None

    def set_meta(self, **values: str) -> None:
        self._db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", list(values.items()))

    def stream_position(self) -> tuple[str | None, int]:
        """(the events stream's creation time, the sequence of the last ticket event applied) this file is at."""
        return self.meta("stream"), int(self.meta("stream_seq") or 0)

    def set_stream_position(self, stream: str, seq: int) -> None:
        self.set_meta(stream=stream, stream_seq=str(seq))

    def mark_dirty(self, ticket_id: str) -> None:
        """This process is about to change the ticket with no event of its own: a crash before its row is written
        leaves the mark, and the next start reads the ticket again."""
        self._db.execute("INSERT OR IGNORE INTO dirty(id) VALUES (?)", (ticket_id,))

    def clear_dirty(self, ticket_id: str) -> None:
        self._db.execute("DELETE FROM dirty WHERE id = ?", (ticket_id,))

    def dirty(self) -> list[str]:
        return [str(i) for (i,) in self._db.execute("SELECT id FROM dirty ORDER BY id").fetchall()]

    @property
    def complete(self) -> bool:
        """The file holds a whole build (a crash in the middle of one leaves it incomplete: it is built again)."""
        return self.meta("complete") == "1"

    def mark_complete(self, done: bool = True) -> None:
        self.set_meta(complete="1" if done else "0")

    def clear(self) -> None:
        with self.batch():
            self._db.execute("DELETE FROM tickets")
            self._db.execute("DELETE FROM summaries")
            self._db.execute("DELETE FROM terms")
            self._db.execute("DELETE FROM dirty")  # a build reads every ticket anyway
            self._set_ordered(True)
        self.forget_tally()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many writes in one transaction (a build, a batch of events): one commit instead of one per ticket."""
        self._changed()
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        finally:
            self._changed()
        self._db.execute("COMMIT")

    def drop_indexes(self) -> None:
        for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'by_%'").fetchall():
            self._db.execute(f'DROP INDEX "{name}"')

    def create_indexes(self) -> None:
        self._db.executescript(_INDEXES)

    def optimize(self) -> None:
        """Statistics for the query planner, after a build."""
        self._db.execute("ANALYZE")
        self._db.execute("INSERT INTO terms(terms) VALUES ('optimize')")

    # --- what the desk's use cases call (as the in-memory index did) -------------------------------------------

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM tickets").fetchone()[0])

    def mark_local(self, event_ids: Iterable[str]) -> None:
        """Events this replica produced: its index has them already, so hearing them back needs no re-read."""
        for event_id in event_ids:
            self._local[event_id] = None
        while len(self._local) > self.LOCAL_MEMORY:
            del self._local[next(iter(self._local))]

    def is_local(self, event_id: str) -> bool:
        return event_id in self._local

    def start_reload(self) -> None:
        """From now on, remember which tickets change: a fresh index built meanwhile may have read them too early."""
        self._changed_during_reload = set()

    def version_of(self, ticket_id: str) -> int | None:
        row = self._db.execute("SELECT version FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return int(row[0]) if row is not None else None

    def upsert(self, ticket: Ticket) -> bool:
        """Index the ticket as read; False (nothing changed) when the row already shows a newer version.

        Reads race: the bus handler's read of version 1 can come back after this replica's own write of version 2
        was indexed, and writing it would show `new` for an `assigned` ticket (issue 14, defect 2). The same
        version replaces (a redelivery or a re-read writes the same)."""
        db = self._db
        current = db.execute(
            "SELECT n, version, status, desk, created_key FROM tickets WHERE id = ?", (ticket.id,)
        ).fetchone()
        if current is not None and int(current[1]) > ticket.version:
            return False
        if self._changed_during_reload is not None:
            self._changed_during_reload.add(ticket.id)
        row, summary = _row(ticket)
        text = _terms_text(ticket, fields_of(ticket))
        created_key = row[_ROW_COLUMNS.index("created_key")]
        with self.batch():
            if current is not None and current[4] != created_key:
                self._delete_row(int(current[0]))  # another creation time (never in practice): another place
            if current is None or current[4] != created_key:
                n = self._place(ticket.id, created_key, ordered_micros(ticket.created_at))
                db.execute(_INSERT, (n, *row))
                n = n if n is not None else db.execute("SELECT n FROM tickets WHERE id = ?", (ticket.id,)).fetchone()[0]
                db.execute("INSERT INTO summaries(n, summary) VALUES (?, ?)", (n, summary))
                db.execute("INSERT INTO terms(rowid, t) VALUES (?, ?)", (n, text))
            else:
                n = current[0]
                db.execute(_UPDATE, (*row[1:], n))
                db.execute("INSERT OR REPLACE INTO summaries(n, summary) VALUES (?, ?)", (n, summary))
                # Most changes (a status, an assignment) leave the text alone: the terms are rewritten only when
                # they differ.
                old = db.execute("SELECT t FROM terms WHERE rowid = ?", (n,)).fetchone()
                if old is None or old[0] != text:
                    db.execute("DELETE FROM terms WHERE rowid = ?", (n,))
                    db.execute("INSERT INTO terms(rowid, t) VALUES (?, ?)", (n, text))
        if self._tally is not None:
            if current is not None:
                self._tally[(current[2], current[3])] -= 1
            self._tally[(ticket.status, "yes" if ticket.resolved_at_desk else None)] += 1
        return True

    def _place(self, ticket_id: str, created_key: str, us: int | None) -> int | None:
        """The number of a new row: its creation microsecond's slots, between its neighbours in (created_key, id)
        order (the middle slot when it is alone, nearly always). When no slot is left between them the microsecond's
        rows are renumbered evenly. None (SQLite picks a number) when the time has no place: the file is then
        unordered."""
        if us is None:
            if self.ordered:
                self._set_ordered(False)
            return None
        base = us << SLOT_BITS
        group = [(str(key), str(i), int(n)) for n, key, i in self._db.execute(
            "SELECT n, created_key, id FROM tickets WHERE n >= ? AND n < ? ORDER BY n", (base, base + SLOTS))]
        if not group:
            return base + SLOTS // 2
        before = [n for key, i, n in group if (key, i) < (created_key, ticket_id)]
        after = [n for key, i, n in group if (key, i) > (created_key, ticket_id)]
        low = before[-1] if before else base - 1
        high = after[0] if after else base + SLOTS
        if high - low >= 2:
            return (low + high) // 2
        if len(group) + 1 >= SLOTS:
            self._set_ordered(False)
            return None
        # Renumber: the rows to negative numbers first (no ordered row has one), then to their even places.
        wanted = sorted([*((key, i) for key, i, _ in group), (created_key, ticket_id)])
        step = SLOTS // (len(wanted) + 1)
        places = {i: base + step * (k + 1) for k, (_, i) in enumerate(wanted)}
        for k, (_, _, n) in enumerate(group):
            self._move_row(n, -(k + 1))
        for k, (_, i, _) in enumerate(group):
            self._move_row(-(k + 1), places[i])
        return places[ticket_id]

    def _move_row(self, old: int, new: int) -> None:
        db = self._db
        db.execute("UPDATE tickets SET n = ? WHERE n = ?", (new, old))
        db.execute("UPDATE summaries SET n = ? WHERE n = ?", (new, old))
        text = db.execute("SELECT t FROM terms WHERE rowid = ?", (old,)).fetchone()
        db.execute("DELETE FROM terms WHERE rowid = ?", (old,))
        if text is not None:
            db.execute("INSERT INTO terms(rowid, t) VALUES (?, ?)", (new, text[0]))

    def _delete_row(self, n: int) -> None:
        self._db.execute("DELETE FROM tickets WHERE n = ?", (n,))
        self._db.execute("DELETE FROM summaries WHERE n = ?", (n,))
        self._db.execute("DELETE FROM terms WHERE rowid = ?", (n,))

    def remove(self, ticket_id: str) -> None:
        row = self._db.execute("SELECT n, status, desk FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            return
        with self.batch():
            self._delete_row(int(row[0]))
        if self._tally is not None:
            self._tally[(row[1], row[2])] -= 1

    def replace_all(self, tickets: Iterable[Ticket]) -> None:
        with self.batch():
            self.clear()
            for ticket in tickets:
                self.upsert(ticket)

    def take(self, fresh: TicketIndex) -> set[str]:
        """Copy in an index built beside this one (a full reload), in one transaction; returns the tickets that
        changed here since start_reload, which the caller reads again."""
        self._db.execute("ATTACH DATABASE ? AS fresh", (str(fresh.path),))
        try:
            with self.batch():
                self.clear()
                self._db.execute("INSERT INTO main.tickets SELECT * FROM fresh.tickets")
                self._db.execute("INSERT INTO main.summaries SELECT * FROM fresh.summaries")
                self._db.execute("INSERT INTO main.terms(rowid, t) SELECT rowid, t FROM fresh.terms")
            self._set_ordered(fresh.ordered)
        finally:
            self._db.execute("DETACH DATABASE fresh")
            self.forget_tally()
        changed, self._changed_during_reload = self._changed_during_reload or set(), None
        return changed

    def id_of_number(self, number: str) -> str | None:
        row = self._db.execute("SELECT id FROM tickets WHERE number = ? ORDER BY id LIMIT 1", (number,)).fetchone()
        return str(row[0]) if row is not None else None

    def assignee_of(self, ticket_id: str) -> str | None:
        row = self._db.execute("SELECT assignee FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return row[0] if row is not None else None

    def ids(self) -> Iterator[tuple[str, int]]:
        """Every (ticket id, version) indexed, for a reconciliation with the database."""
        return ((str(i), int(v)) for i, v in self._db.execute("SELECT id, version FROM tickets").fetchall())

    def counts(self, name: str) -> dict[str, int]:
        """How many tickets per value of one field, e.g. open tickets by status for the metrics (kept as a tally,
        so a scrape costs no scan)."""
        if name == "status":
            by_status: Counter[str] = Counter()
            for (status, _), count in self._counts_by_status().items():
                by_status[status] += count
            return {status: count for status, count in by_status.items() if count > 0}
        if name not in FIELD_COLUMNS:
            return {}
        rows = self._db.execute(f"SELECT {name}, count(*) FROM tickets WHERE {name} IS NOT NULL GROUP BY {name}")
        return {str(value): int(count) for value, count in rows}

    def resolution_counts(self, *, start: datetime | None = None, end: datetime | None = None) -> tuple[int, int]:
        """(resolved or closed, of which resolved at the desk), the desk share's numerator and denominator; with
        start/end, only the tickets resolved in [start, end) (the contract's first-contact figure is monthly)."""
        if start is None and end is None:
            tally = self._counts_by_status()
            done = [(desk, count) for (status, desk), count in tally.items() if status in ("resolved", "closed")]
            return sum(count for _, count in done), sum(count for desk, count in done if desk is not None)
        sql = "SELECT count(*), count(desk) FROM tickets WHERE status IN ('resolved', 'closed')"
        params: list[Any] = []
        if start is not None or end is not None:
            sql += " AND resolved_us IS NOT NULL"
        if start is not None:
            sql += " AND resolved_us >= ?"
            params.append(micros(start))
        if end is not None:
            sql += " AND resolved_us < ?"
            params.append(micros(end))
        done, at_desk = self._db.execute(sql, params).fetchone()
        return int(done), int(at_desk)

    def summaries(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        return _summaries(self._db, ids)

    def count(self, query: Query, *, actor: Actor, cap: int | None = None) -> int:
        """How many tickets the query matches in all (its filters, text and ranges; no cursor, no limit). With `cap`
        and free text, counted up to cap + 1 only: an answer of cap + 1 means "more than cap". The count a search
        just made for its plan is reused (GET /tickets asks for both) until the next write."""
        cap = cap if query.text else None
        key = (*_count_key(query, actor), cap)
        if (known := self._counted.get(key)) is not None:
            return known
        if cap is not None and (exact := self._counted.get((*key[:-1], None))) is not None:
            return min(exact, cap + 1)
        counted = _count(self._db, query, actor, total=self._total(), ordered=self.ordered, cap=cap,
                         by_status=self._by_status())
        if len(self._counted) > 256:
            self._counted.clear()
        self._counted[key] = counted
        return counted

    def search(self, query: Query, *, actor: Actor) -> tuple[list[str], str | None]:
        """Ticket ids of one page in order, and the cursor of the next page (None on the last)."""
        return _search(self._db, query, actor, matching=lambda: self.count(query, actor=actor), total=self._total(),
                       ordered=self.ordered)

    def page(self, query: Query, *, actor: Actor, cap: int | None = None) -> tuple[list[dict[str, Any]], str | None, int]:
        """page_async's work on this connection (the benchmark, tests)."""
        return _page(self._db, query, actor, total=self._total(), ordered=self.ordered, cap=cap, by_status=self._by_status())

    def _counts_by_status(self) -> Counter[tuple[str, str | None]]:
        """Tickets per (status, desk mark): read once, then kept by every upsert and removal."""
        if self._tally is None:
            rows = self._db.execute("SELECT status, desk, count(*) FROM tickets GROUP BY status, desk")
            self._tally = Counter({(str(status), desk): int(count) for status, desk, count in rows})
        return self._tally

    def forget_tally(self) -> None:
        """After writes that bypass upsert/remove (a copy, a bulk load): the tally is read again when next needed."""
        self._tally = None
        self._counted.clear()

    def _by_status(self) -> dict[str, int]:
        by_status: Counter[str] = Counter()
        for (status, _), count in self._counts_by_status().items():
            by_status[status] += count
        return dict(by_status)

    def _total(self) -> int:
        return sum(self._counts_by_status().values())

    def _changed(self) -> None:
        self._counted.clear()

    # --- the same reads in a worker thread, on a connection of that thread ---------------------------------------

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            conn = _connect(self.path)
            self._readers.conn = conn
            with self._reader_lock:
                self._reader_conns.append(conn)
        return conn

    async def page_async(
        self, query: Query, *, actor: Actor, cap: int | None = None
    ) -> tuple[list[dict[str, Any]], str | None, int]:
        """One page for GET /tickets off the event loop, in one trip to a worker thread: the summaries in order, the
        next page's cursor and the total. The total is exact, except with `cap` and free text: then at most cap + 1,
        which means "more than cap" (a common word at a million tickets matches a hundred thousand; counting them
        all is most of the search's time). The worker thread keeps the event loop free for other requests."""
        total, ordered, by_status = self._total(), self.ordered, self._by_status()
        return await asyncio.to_thread(
            lambda: _page(self._reader(), query, actor, total=total, ordered=ordered, cap=cap, by_status=by_status)
        )

    async def counts_async(
        self, queries: Mapping[str, Query], *, actor: Actor, cap: int | None = None
    ) -> dict[str, int]:
        """Several counts (the desk's queues) in one trip to a worker thread; `cap` as in page_async."""
        total, ordered, by_status = self._total(), self.ordered, self._by_status()

        def work() -> dict[str, int]:
            db = self._reader()
            return {name: _count(db, query, actor, total=total, ordered=ordered, cap=cap if query.text else None,
                                 by_status=by_status) for name, query in queries.items()}

        return await asyncio.to_thread(work)

    def disk_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in (self.path, Path(f"{self.path}-wal")) if os.path.exists(p))


@dataclass(frozen=True)
class _Where:
    """A query as SQL: the conditions on the tickets table and their parameters, the FTS5 match, the creation range
    (microseconds, half open) and a requester's visibility (either of two columns), each apart: a count of free text
    alone is read from the terms table only, a creation range is a range of row numbers when the file is ordered, and
    the two columns of a view are two index reads rather than an OR."""

    conditions: list[str]
    params: list[Any]
    match: str | None
    created: tuple[int | None, int | None] = (None, None)
    either: tuple[tuple[str, str], ...] = ()  # (column, value): a row matches when one of them holds

    def sql(self) -> tuple[list[str], list[Any]]:
        conditions, params = self.plain()
        if self.either:
            conditions.append("(" + " OR ".join(f"{column} = ?" for column, _ in self.either) + ")")
            params.extend(value for _, value in self.either)
        if self.match is not None:
            conditions.append("n IN (SELECT rowid FROM terms WHERE terms MATCH ?)")
            params.append(self.match)
        return conditions, params

    def plain(self) -> tuple[list[str], list[Any]]:
        """The conditions without the view's columns and the text, the creation range as a column range."""
        conditions, params = list(self.conditions), list(self.params)
        low, high = self.created
        if low is not None:
            conditions.append("created_us >= ?")
            params.append(low)
        if high is not None:
            conditions.append("created_us < ?")
            params.append(high)
        return conditions, params

    def arms(self) -> list[tuple[list[str], list[Any]]]:
        """The view's columns as disjoint arms, each with the other conditions: the first column; the second where
        the first does not hold (`IS NOT` is true of a NULL too); so counts add up."""
        out: list[tuple[list[str], list[Any]]] = []
        for k, (column, value) in enumerate(self.either):
            conditions, params = self.plain()
            conditions.append(f"{column} = ?")
            params.append(value)
            for other, other_value in self.either[:k]:
                conditions.append(f"{other} IS NOT ?")
                params.append(other_value)
            out.append((conditions, params))
        return out


def _where(query: Query, actor: Actor) -> _Where | None:
    """The SQL of everything but the cursor; None when nothing can match. With free text, the filters and the
    visibility join the FTS match as facets; without, they are conditions on the indexed columns."""
    conditions: list[str] = []
    params: list[Any] = []
    either: tuple[tuple[str, str], ...] = ()
    ands: list[str] = []  # FTS groups, used when there is text
    seen = visibility(actor)
    if seen.nothing:
        return None
    if seen.assignee is not None:
        conditions.append("assignee = ?")
        params.append(seen.assignee)
        ands.append(_any([facet("assignee", seen.assignee)]))
    elif seen.requester is not None or seen.department is not None:
        either = (("requester", seen.requester),) if seen.requester is not None else ()
        groups = [facet("requester", str(seen.requester))]
        if seen.department:
            # The department first: the larger arm is counted from its index alone.
            either = (("department", seen.department), *either)
            groups.append(facet("department", seen.department))
        ands.append(_any(groups))
    for name, values in query.filters.items():
        if name not in FIELD_COLUMNS or not values:
            return None
        folded = sorted({_folded(name, v) for v in values})
        conditions.append(f"{name} IN ({', '.join('?' for _ in folded)})")
        params.extend(folded)
        ands.append(_any(facet(name, v) for v in folded))
    match: str | None = None
    if query.text:
        wanted = query_terms(query.text)
        if not wanted:
            return None
        match = " AND ".join([_match(wanted), *ands])
        conditions, params, either = [], [], ()
    if query.ids:
        conditions.append(f"id IN ({', '.join('?' for _ in query.ids)})")
        params.extend(sorted(query.ids))
    if query.reported_from is not None:
        conditions.append("reported_us >= ?")
        params.append(micros(query.reported_from))
    if query.reported_to is not None:
        conditions.append("reported_us < ?")
        params.append(micros(query.reported_to))
    created = (micros(query.created_from) if query.created_from is not None else None,
               micros(query.created_to) if query.created_to is not None else None)
    return _Where(conditions, params, match, created, either)


def _count_key(query: Query, actor: Actor) -> tuple[Any, ...]:
    """What a count depends on: not the sort, the cursor or the page size."""
    filters = tuple(sorted((name, tuple(sorted(values))) for name, values in query.filters.items()))
    return (filters, query.text, query.created_from, query.created_to, query.reported_from, query.reported_to,
            tuple(sorted(query.ids)), visibility(actor))


def _row_range(created: tuple[int | None, int | None]) -> tuple[list[str], list[Any]]:
    """A creation range as a range of row numbers (an ordered file): n = microsecond << SLOT_BITS | slot."""
    conditions: list[str] = []
    params: list[Any] = []
    for op, us in ((">=", created[0]), ("<", created[1])):
        if us is not None:
            conditions.append(f"rowid {op} ?")
            params.append(max(-MAX_ORDERED_US, min(us, MAX_ORDERED_US)) << SLOT_BITS)
    return conditions, params


def _count(
    db: sqlite3.Connection, query: Query, actor: Actor, *, total: int | None = None, ordered: bool = False,
    cap: int | None = None, by_status: Mapping[str, int] | None = None,
) -> int:
    """How many the query matches; with `cap` (free text only) at most cap + 1. `by_status` (the tally kept by every
    write) answers a count of statuses alone (the desk's open queue: a seventh of all tickets) without a scan."""
    where = _where(query, actor)
    if where is None:
        return 0
    if (by_status is not None and set(query.filters) == {"status"} and not query.text and not query.ids
            and where.created == (None, None) and query.reported_from is None and query.reported_to is None
            and visibility(actor) == Visibility()):
        return sum(by_status.get(status, 0) for status in query.filters["status"])
    if where.match is not None:
        cap = cap if cap is not None and cap >= 0 else None
        limit = " LIMIT ?" if cap is not None else ""
        limits = [cap + 1] if cap is not None else []
        if not where.conditions and (ordered or where.created == (None, None)):
            bounds, bound_params = _row_range(where.created)
            sql = "SELECT rowid FROM terms WHERE terms MATCH ?" + "".join(" AND " + b for b in bounds)
            return int(db.execute(f"SELECT count(*) FROM ({sql}{limit})", [where.match, *bound_params, *limits]).fetchone()[0])
        conditions, params = where.sql()
        sql = "SELECT 1 FROM tickets WHERE " + " AND ".join(conditions)
        return int(db.execute(f"SELECT count(*) FROM ({sql}{limit})", [*params, *limits]).fetchone()[0])
    if where.either:
        counted = 0
        for conditions, params in where.arms():
            counted += int(db.execute("SELECT count(*) FROM tickets WHERE " + " AND ".join(conditions), params).fetchone()[0])
        return counted
    conditions, params = where.sql()
    if not conditions:
        return total if total is not None else int(db.execute("SELECT count(*) FROM tickets").fetchone()[0])
    return int(db.execute("SELECT count(*) FROM tickets WHERE " + " AND ".join(conditions), params).fetchone()[0])


def _page(
    db: sqlite3.Connection, query: Query, actor: Actor, *, total: int, ordered: bool, cap: int | None,
    by_status: Mapping[str, int] | None = None,
) -> tuple[list[dict[str, Any]], str | None, int]:
    """GET /tickets: the summaries of one page, the next page's cursor, the total (capped as _count says), counted
    once: a plan that needs the count to choose (_search) is given the same."""
    counted: list[int] = []

    def matching() -> int:
        if not counted:
            counted.append(_count(db, query, actor, total=total, ordered=ordered, cap=cap if query.text else None,
                                  by_status=by_status))
        return counted[0]

    ids, cursor = _search(db, query, actor, matching=matching, total=total, ordered=ordered)
    return _summaries(db, ids), cursor, matching()


def _cursor_row(db: sqlite3.Connection, after: tuple[str, str], descending: bool) -> tuple[str, int] | None:
    """The cursor of the creation order as a bound on row numbers (an ordered file): `rowid < n` going down,
    `rowid > n` going up; None when the cursor's time is not one a row would have (the plan by columns then)."""
    key, ticket_id = after
    try:
        moment = datetime.fromisoformat(key)
    except ValueError:
        return None
    us = ordered_micros(moment)
    if us is None or moment.isoformat() != key:
        return None
    base = us << SLOT_BITS
    group = [(str(k), str(i), int(n)) for n, k, i in db.execute(
        "SELECT n, created_key, id FROM tickets WHERE n >= ? AND n < ? ORDER BY n", (base, base + SLOTS))]
    if descending:
        below = [n for k, i, n in group if (k, i) < (key, ticket_id)]
        return "<", below[-1] + 1 if below else base
    above = [n for k, i, n in group if (k, i) > (key, ticket_id)]
    return ">", above[0] - 1 if above else base + SLOTS - 1


def _text_page(
    db: sqlite3.Connection, query: Query, where: _Where, after: tuple[str, str] | None
) -> tuple[list[tuple[str, str]], bool] | None:
    """Free text in the creation order of an ordered file: the first hits of the FTS match in rowid order (SQLite
    stops after the page; no count, no sort), each joined to its row for the other conditions. None when the cursor
    does not map to a row number."""
    bounds, params = _row_range(where.created)
    if after is not None:
        bound = _cursor_row(db, after, query.descending)
        if bound is None:
            return None
        bounds.append(f"rowid {bound[0]} ?")
        params.append(bound[1])
    direction = "DESC" if query.descending else "ASC"
    sql = (
        "SELECT tk.created_key, tk.id FROM terms CROSS JOIN tickets tk ON tk.n = terms.rowid WHERE terms MATCH ?"
        + "".join(f" AND terms.{b}" for b in bounds)
        + "".join(f" AND tk.{c}" for c in where.conditions)
        + f" ORDER BY terms.rowid {direction} LIMIT ?"
    )
    rows = db.execute(sql, [where.match, *params, *where.params, query.limit + 1]).fetchall()
    return [(str(key), str(i)) for key, i in rows], True


def _search(
    db: sqlite3.Connection, query: Query, actor: Actor, *, matching: Any = None, total: int | None = None,
    ordered: bool = False,
) -> tuple[list[str], str | None]:
    """One page in order.

    - Free text in the default order (created_at) in an ordered file: the FTS hits in rowid order (_text_page).
    - A requester's view (own or department's tickets): each column's first page from its own index, merged.
    - Otherwise, with `matching` (a function giving how many the query matches) and `total` (how many tickets), the
      plan is chosen: when the matches are many, walking the sort order's index and testing each row reads about
      total / matching rows per result, far fewer than sorting every match (SQLite's own choice for an IN list or a
      free text match, which at a million tickets sorts a hundred thousand rows for a page of fifty)."""
    after = decode_cursor(query.cursor, query.sort, query.descending) if query.cursor else None
    where = _where(query, actor)
    if where is None:
        return [], None
    column = SORT_COLUMNS[query.sort]
    direction = "DESC" if query.descending else "ASC"
    page: list[tuple[str, str]] | None = None
    if ordered and query.sort == "created_at" and where.match is not None:
        found = _text_page(db, query, where, after)
        page = found[0] if found is not None else None
    if page is None and where.either and where.match is None:
        arms: list[str] = []
        params: list[Any] = []
        for conditions, arm_params in where.arms():
            if after is not None:
                conditions.append(f"({column}, id) {'<' if query.descending else '>'} (?, ?)")
                arm_params.extend(after)
            arms.append(f"SELECT * FROM (SELECT {column} AS k, id FROM tickets WHERE {' AND '.join(conditions)} "
                        f"ORDER BY {column} {direction}, id {direction} LIMIT ?)")
            params.extend([*arm_params, query.limit + 1])
        sql = f"SELECT k, id FROM ({' UNION ALL '.join(arms)}) ORDER BY k {direction}, id {direction} LIMIT ?"
        page = [(str(k), str(i)) for k, i in db.execute(sql, [*params, query.limit + 1]).fetchall()]
    if page is None:
        count = matching() if callable(matching) else matching
        if count == 0:
            return [], None
        conditions, params = where.sql()
        if after is not None:
            conditions.append(f"({column}, id) {'<' if query.descending else '>'} (?, ?)")
            params.extend(after)
        walk = count is not None and total is not None and total * (query.limit + 1) < count * count
        source = f"tickets INDEXED BY {SORT_INDEXES[query.sort]}" if walk and conditions else "tickets"
        sql = (
            f"SELECT {column}, id FROM {source}" + (" WHERE " + " AND ".join(conditions) if conditions else "")
            + f" ORDER BY {column} {direction}, id {direction} LIMIT ?"
        )
        page = [(str(key), str(i)) for key, i in db.execute(sql, [*params, query.limit + 1]).fetchall()]
    more = len(page) > query.limit
    page = page[: query.limit]
    cursor = encode_cursor(query.sort, query.descending, page[-1]) if more and page else None
    return [ticket_id for _, ticket_id in page], cursor

"""Spare parts by part type and site, reservations, issues against tickets; loaner devices: pure rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.cmdb import LoanerChangedV1, SpareIssuedV1, SpareIssueReversedV1

from .domain import Asset
from .texts import Said


class Reservation(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    quantity: int
    ticket_id: str | None = None
    reserved_at: datetime
    reserved_by: str


class SpareStock(BaseModel):
    """One part type at one site."""

    model_config = ConfigDict(frozen=True)

    part_type: str
    site: str
    on_hand: int = Field(default=0, ge=0)
    minimum: int = Field(default=0, ge=0, description="Below this available count the part is reordered")
    reorder_quantity: int = Field(default=0, ge=0, description="Least quantity to order at once")
    reservations: dict[str, Reservation] = Field(default_factory=dict)
    issued_by_month: dict[str, int] = Field(default_factory=dict, description="YYYY-MM -> quantity issued")
    # Issues already taken back into this stock: a reversal retried after a crash restores nothing twice.
    reversed_issues: tuple[str, ...] = ()
    # Issues made for an engineer's service record (ids derived from the assignment.completed event): a redelivered
    # completion issues nothing twice.
    completion_issues: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return stock_key(self.part_type, self.site)

    @property
    def reserved(self) -> int:
        return sum(r.quantity for r in self.reservations.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def stock_key(part_type: str, site: str) -> str:
    return f"{part_type}@{site}"


class NotEnoughStock(Exception):
    pass


class AlreadyIssued(Exception):
    """This stock has made the issue with this id already (a redelivered completion)."""


def receive(stock: SpareStock, quantity: int) -> SpareStock:
    return stock.model_copy(update={"on_hand": stock.on_hand + quantity})


def reserve(stock: SpareStock, *, quantity: int, ticket_id: str | None, now: datetime, by: str) -> tuple[SpareStock, Reservation]:
    if quantity < 1 or quantity > stock.available:
        raise NotEnoughStock(Said("err.not_enough_stock", key=stock.key, available=stock.available, wanted=quantity))
    res = Reservation(id=str(uuid.uuid4()), quantity=quantity, ticket_id=ticket_id, reserved_at=now, reserved_by=by)
    return stock.model_copy(update={"reservations": {**stock.reservations, res.id: res}}), res


def release(stock: SpareStock, reservation_id: str) -> SpareStock:
    if reservation_id not in stock.reservations:
        raise KeyError(reservation_id)
    return stock.model_copy(update={"reservations": {k: v for k, v in stock.reservations.items() if k != reservation_id}})


def issue(
    stock: SpareStock, *, quantity: int, ticket_id: str, reservation_id: str | None, asset_tag: str | None,
    now: datetime, by: str, issue_id: str | None = None,
) -> tuple[SpareStock, SpareIssuedV1]:
    """Issue against a ticket, from a reservation (which it consumes) or from what is available. A given `issue_id`
    (a completion's parts) is remembered on the stock, and issuing it again raises AlreadyIssued."""
    if issue_id is not None and issue_id in stock.completion_issues:
        raise AlreadyIssued(issue_id)
    reservations = dict(stock.reservations)
    if reservation_id is not None:
        res = reservations.pop(reservation_id, None)
        if res is None:
            raise KeyError(reservation_id)
        if quantity > res.quantity + stock.available:
            raise NotEnoughStock(Said("err.not_enough_reserved", key=stock.key, reserved=res.quantity, available=stock.available))
    elif quantity > stock.available:
        raise NotEnoughStock(Said("err.not_enough_stock", key=stock.key, available=stock.available, wanted=quantity))
    month = now.strftime("%Y-%m")
    updated = stock.model_copy(update={
        "on_hand": stock.on_hand - quantity, "reservations": reservations,
        "issued_by_month": {**stock.issued_by_month, month: stock.issued_by_month.get(month, 0) + quantity},
        "completion_issues": (*stock.completion_issues, issue_id) if issue_id is not None else stock.completion_issues,
    })
    event = SpareIssuedV1(
        issue_id=issue_id or str(uuid.uuid4()), part_type=stock.part_type, site=stock.site, quantity=quantity, ticket_id=ticket_id,
        asset_tag=asset_tag, remaining=updated.on_hand, below_minimum=updated.available < updated.minimum,
        issued_by=by, issued_at=now,
    )
    return updated, event


class SpareIssue(BaseModel):
    """One issue as recorded beside the stock, so that it can be taken back."""

    model_config = ConfigDict(frozen=True)

    issue_id: str
    part_type: str
    site: str
    quantity: int
    ticket_id: str
    asset_tag: str | None = None
    issued_by: str
    issued_at: datetime
    status: Literal["issued", "reversed"] = "issued"
    reversed_by: str | None = None
    reversed_at: datetime | None = None
    reason: str | None = None

    @classmethod
    def of(cls, event: SpareIssuedV1) -> SpareIssue:
        return cls(issue_id=event.issue_id, part_type=event.part_type, site=event.site, quantity=event.quantity,
                   ticket_id=event.ticket_id, asset_tag=event.asset_tag, issued_by=event.issued_by,
                   issued_at=event.issued_at)


class AlreadyReversed(Exception):
    pass


def reverse_issue(
    stock: SpareStock, issue: SpareIssue, *, reason: str | None, now: datetime, by: str
) -> tuple[SpareStock, SpareIssueReversedV1 | None]:
    """The stock with the issue's parts back on hand and its month's consumption lowered; no event when this stock
    has taken the issue back already (a retried reversal)."""
    if issue.issue_id in stock.reversed_issues:
        return stock, None
    month = issue.issued_at.strftime("%Y-%m")
    used = {**stock.issued_by_month, month: max(stock.issued_by_month.get(month, 0) - issue.quantity, 0)}
    updated = stock.model_copy(update={
        "on_hand": stock.on_hand + issue.quantity, "issued_by_month": used,
        "reversed_issues": (*stock.reversed_issues, issue.issue_id),
    })
    event = SpareIssueReversedV1(
        issue_id=issue.issue_id, part_type=stock.part_type, site=stock.site, quantity=issue.quantity,
        ticket_id=issue.ticket_id, issued_at=issue.issued_at, remaining=updated.on_hand, reason=reason,
        reversed_by=by, reversed_at=now,
    )
    return updated, event


def low_stock(stock: SpareStock) -> bool:
    """Below its minimum: what the desk must reorder (the replenishment list adds last month's consumption)."""
    return stock.available < stock.minimum


class ReplenishmentLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    part_type: str
    site: str
    available: int
    minimum: int
    issued_last_month: int
    order: int


def replenishment(stocks: list[SpareStock], *, month: str) -> list[ReplenishmentLine]:
    """The monthly list: every part whose available stock is below its minimum plus last month's consumption;
    order enough to get back to that level, at least the reorder quantity."""
    year, mon = (int(p) for p in month.split("-"))
    previous = f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"
    lines = []
    for s in stocks:
        used = s.issued_by_month.get(previous, 0)
        target = s.minimum + used
        if s.available < target:
            lines.append(ReplenishmentLine(
                part_type=s.part_type, site=s.site, available=s.available, minimum=s.minimum, issued_last_month=used,
                order=max(target - s.available, s.reorder_quantity),
            ))
    return sorted(lines, key=lambda line: (line.site, line.part_type))


# --- loaners -------------------------------------------------------------------------------------------------


class Loan(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    loaner_tag: str
    borrower: str
    department: str | None = None
    for_asset_tag: str | None = None
    repair_id: str | None = None
    lent_at: datetime
    due_back: date | None = None
    returned_at: datetime | None = None
    status: Literal["lent", "returned"] = "lent"


class NotLendable(Exception):
    pass


def lend(
    loaner: Asset, *, borrower: str, department: str | None, for_asset_tag: str | None, repair_id: str | None,
    due_back: date | None, now: datetime, by: str,
) -> tuple[Loan, LoanerChangedV1]:
    if loaner.status != "in_stock":
        raise NotLendable(Said("err.not_lendable", tag=loaner.tag, status=loaner.status))
    loan = Loan(id=str(uuid.uuid4()), loaner_tag=loaner.tag, borrower=borrower, department=department,
                for_asset_tag=for_asset_tag, repair_id=repair_id, lent_at=now, due_back=due_back)
    return loan, _loan_event(loan, "lent", now=now, by=by)


def give_back(loan: Loan, *, now: datetime, by: str) -> tuple[Loan, LoanerChangedV1]:
    if loan.status != "lent":
        raise NotLendable(Said("err.loan_returned", id=loan.id))
    returned = loan.model_copy(update={"status": "returned", "returned_at": now})
    return returned, _loan_event(returned, "returned", now=now, by=by)


def _loan_event(loan: Loan, action: Literal["lent", "returned"], *, now: datetime, by: str) -> LoanerChangedV1:
    return LoanerChangedV1(
        loan_id=loan.id, loaner_tag=loan.loaner_tag, action=action, borrower=loan.borrower, department=loan.department,
        for_asset_tag=loan.for_asset_tag, repair_id=loan.repair_id, due_back=loan.due_back, by=by, at=now,
    )

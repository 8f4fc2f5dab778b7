"""What organizers read about an event: report, attendees (CSV), orders, audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Response, stream_with_context

from ..clock import current_time
from ..models import format_price, iso
from ..security import current_user_id
from ..services import audit, reports
from .presenters import order_json

_ROWS_PER_CHUNK = 500


def report(event_id: int) -> dict:
    found = reports.event_report(user_id=current_user_id(), event_id=event_id, now=current_time())
    money = found.currency
    return {
        "report": {
            "seats": found.seats,
            "tickets": found.tickets,
            "revenue": {
                "gross": format_price(found.gross_cents),
                "refunded": format_price(found.refunded_cents),
                "net": format_price(found.net_cents),
                "currency": money,
            },
            "by_category": [
                {
                    "category": line.category,
                    "price": format_price(line.price_cents),
                    "booked": line.booked,
                    "revenue": format_price(line.revenue_cents),
                }
                for line in found.by_category
            ],
        }
    }


def _csv_chunks(event_id: int) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(reports.ATTENDEE_COLUMNS)
    rows = reports.attendee_rows(event_id=event_id)
    for written, (code, label, section, row, number, category, price, order_id, email, status, at) in enumerate(
        rows, start=1
    ):
        writer.writerow(
            (
                code,
                label,
                section,
                row,
                number,
                category or "",
                format_price(price),
                order_id or "",
                email,
                status,
                iso(at) or "",
            )
        )
        if written % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def attendees_csv(event_id: int) -> Response:
    reports.check_manager(user_id=current_user_id(), event_id=event_id)
    response = Response(stream_with_context(_csv_chunks(event_id)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event_id}-attendees.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


def event_orders(event_id: int, query: dict) -> dict:
    reports.check_manager(user_id=current_user_id(), event_id=event_id)
    now = current_time()
    lines, next_after = reports.event_orders(
        event_id=event_id, status=query.get("status"), limit=query["limit"], after=query.get("after"), now=now
    )
    views = reports.order_views_of([line.order for line in lines], now)
    return {
        "orders": [
            {**order_json(view), "buyer": {"id": line.buyer_id, "email": line.buyer_email}}
            for view, line in zip(views, lines, strict=True)
        ],
        "next_after": next_after,
    }


def audit_log(event_id: int, query: dict) -> dict:
    reports.check_manager(user_id=current_user_id(), event_id=event_id)
    return _entries(audit.event_entries(event_id=event_id, limit=query["limit"], after=query.get("after")))


def organization_audit_log(organization_id: int, query: dict) -> dict:
    page = audit.organization_entries(
        user_id=current_user_id(), organization_id=organization_id, limit=query["limit"], after=query.get("after")
    )
    return _entries(page)


def _entries(page) -> dict:
    return {
        "entries": [
            {"id": row.id, "at": iso(row.at), "user_id": row.user_id, "action": row.action, "details": row.details}
            for row in page.entries
        ],
        "next_after": page.next_after,
    }

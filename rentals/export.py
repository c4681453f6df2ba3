"""The rental CSVs: one column spec per export, written by `kit.csv` from the records
`selectors.rentals_for_export` and `selectors.messages_for_export` stream (never an API key's secret)."""

from kit.csv import Column
from rentals.models import Rental, RentalSms

RENTAL_COLUMNS: list[Column[Rental]] = [
    Column("id", lambda r: r.public_id),
    Column("rent_id", lambda r: r.upstream_id),
    Column("previous_rent_id", lambda r: r.previous.upstream_id if r.previous else None),
    Column("phone", lambda r: r.phone),
    Column("service", lambda r: r.service),
    Column("country", lambda r: r.country),
    Column("operator", lambda r: r.operator),
    Column("status", lambda r: r.status),
    Column("hours", lambda r: r.hours),
    Column("created_at", lambda r: r.created_at),
    Column("started_at", lambda r: r.started_at),
    Column("ends_at", lambda r: r.ends_at),
    Column("closed_at", lambda r: r.closed_at),
    Column("cost", lambda r: r.cost),
    Column("total_spent", lambda r: r.total_cost),
    Column("currency", lambda r: r.currency),
    Column("messages", lambda r: r.sms_count),
    Column("auto_renew", lambda r: r.auto_renew),
    Column("renewals", lambda r: r.renewal_count),  # annotated by rentals_for_export
    Column("key", lambda r: r.api_key.label),
    Column("member", lambda r: r.member.username if r.member else None),
]

MESSAGE_COLUMNS: list[Column[RentalSms]] = [
    Column("rental_id", lambda sms: sms.rental.public_id),
    Column("rent_id", lambda sms: sms.rental.upstream_id),
    Column("phone", lambda sms: sms.rental.phone),
    Column("service", lambda sms: sms.service or sms.rental.service),
    Column("received_at", lambda sms: sms.received_at),
    Column("from", lambda sms: sms.phone_from),
    Column("text", lambda sms: sms.text),
    Column("code", lambda sms: sms.code),
    Column("via", lambda sms: sms.via),
]

"""The rental CSVs: one column spec per export, written by `kit.csv` from the records
`selectors.rentals_for_export` and `selectors.messages_for_export` stream (never an API key's secret).

The money columns are the ledger's (`purchases.selectors.money_of`): `cost` is everything booked on the rent
(the rent, its extensions, corrections), `refund` what came back, `net` what it really cost; all empty for
a rent that was never made. Service and country come as code and name; a status (and how a message came)
as its translated label in the Excel flavour and as its code in the plain one (`kit.csv.Column.labels`)."""

from django.utils.translation import gettext_lazy as _

from kit.csv import Column
from purchases.selectors import money_of
from rentals.models import Rental, RentalSms, RentalSmsVia, RentalStatus

RENTAL_COLUMNS: list[Column[Rental]] = [
    Column("id", lambda r: r.public_id, _("Id")),
    Column("rent_id", lambda r: r.upstream_id, _("Rent id")),
    Column(
        "previous_rent_id", lambda r: r.previous.upstream_id if r.previous else None, _("Previous rent id")
    ),
    Column("phone", lambda r: r.phone, _("Phone")),
    Column("service", lambda r: r.service, _("Service code")),
    Column("service_name", lambda r: r.service_name, _("Service")),  # set by rentals_for_export
    Column("country", lambda r: r.country, _("Country code")),
    Column("country_name", lambda r: r.country_name, _("Country")),
    Column("operator", lambda r: r.operator, _("Operator")),
    Column("status", lambda r: r.status, _("Status"), RentalStatus),  # the label in Excel, the code in plain
    Column("hours", lambda r: r.hours, _("Hours")),
    Column("created_at", lambda r: r.created_at, _("Created")),
    Column("started_at", lambda r: r.started_at, _("Started")),
    Column("ends_at", lambda r: r.ends_at, _("Ends")),
    Column("closed_at", lambda r: r.closed_at, _("Closed")),
    Column("cost", lambda r: money_of(r)[0], _("Cost")),
    Column("refund", lambda r: money_of(r)[1], _("Refund")),
    Column("net", lambda r: money_of(r)[2], _("Net spent")),
    Column("currency", lambda r: r.currency, _("Currency")),
    Column("messages", lambda r: r.sms_count, _("Messages")),
    Column("auto_renew", lambda r: r.auto_renew, _("Auto-renew")),
    Column("renewals", lambda r: r.renewal_count, _("Extensions")),  # annotated by rentals_for_export
    Column("key", lambda r: r.api_key.label, _("Key")),
    Column("member", lambda r: r.member.username if r.member else None, _("Member")),
]

MESSAGE_COLUMNS: list[Column[RentalSms]] = [
    Column("rental_id", lambda sms: sms.rental.public_id, _("Rental id")),
    Column("rent_id", lambda sms: sms.rental.upstream_id, _("Rent id")),
    Column("phone", lambda sms: sms.rental.phone, _("Phone")),
    Column("service", lambda sms: sms.service or sms.rental.service, _("Service code")),
    Column("service_name", lambda sms: sms.service_name, _("Service")),  # set by messages_for_export
    Column("received_at", lambda sms: sms.received_at, _("Received")),
    Column("from", lambda sms: sms.phone_from, _("From")),
    Column("text", lambda sms: sms.text, _("Text")),
    Column("code", lambda sms: sms.code, _("Code")),
    Column("via", lambda sms: sms.via, _("Via"), RentalSmsVia),
]

"""The audit log CSV: its column spec for `kit.csv`, written from the records `selectors.audit_for_export`
streams. A key appears by its label, never its secret; the entry's `details` stay out (free-form)."""

from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEntry
from kit.csv import Column
from kit.phrases import phrase_text

AUDIT_COLUMNS: list[Column[AuditEntry]] = [
    Column("created_at", lambda entry: entry.created_at, _("Time")),
    Column("member", lambda entry: entry.actor.username if entry.actor else None, _("Member")),
    Column("action", lambda entry: entry.action, _("Action")),
    # Said in the downloader's language, as the log page says it (kit.phrases).
    Column("summary", lambda entry: phrase_text(entry.summary_phrase), _("Summary")),
    Column("key", lambda entry: entry.api_key.label if entry.api_key else None, _("Key")),
    Column("amount", lambda entry: entry.amount, _("Amount")),
    Column("currency", lambda entry: entry.currency, _("Currency")),
]

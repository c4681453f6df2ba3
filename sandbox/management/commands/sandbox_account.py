"""Manage sandbox accounts: create (prints only the key), list, set settings and faults, push an SMS."""

from argparse import BooleanOptionalAction
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from sandbox import services
from sandbox.errors import ApiError
from sandbox.models import Account, Dialect

FAULTS = {
    "timeout": "timeout_rate",
    "http5xx": "http5xx_rate",
    "html": "html_rate",
    "error_sql": "error_sql_rate",
    "truncated_json": "truncated_json_rate",
    "rate_limit": "rate_limit_rate",
    "after_commit": "fault_after_commit_rate",
    "damaged_row": "damaged_row_rate",
}


def _decimal(raw: str) -> Decimal:
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise CommandError(f"not an amount: {raw!r}") from None


class Command(BaseCommand):
    help = (
        "Sandbox accounts. create: prints the new key and nothing else; list; set KEY [options]; "
        "sms ACTIVATION_OR_RENT_ID TEXT."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="command", required=True)
        create = sub.add_parser("create", help="open an account and print its key")
        create.add_argument("--balance", default="0")
        create.add_argument("--dialect", choices=[d.value for d in Dialect], default=Dialect.CLASSIC)
        create.add_argument("--label")
        create.add_argument("--if-missing", action="store_true", help="with --label: print the existing key")
        self._settings_options(create)
        sub.add_parser("list", help="label, key (last 4), balance, dialect")
        update = sub.add_parser("set", help="change an account's balance, clock settings and faults")
        update.add_argument("key")
        update.add_argument("--balance")
        update.add_argument("--dialect", choices=[d.value for d in Dialect])
        update.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="NAME=RATE",
            help=f"fault rate 0..1; names: {', '.join(FAULTS)}",
        )
        update.add_argument(
            "--fault-actions", help="comma-separated actions the fault rates apply to ('' = every action)"
        )
        update.add_argument("--latency-ms", type=int)
        update.add_argument("--banned-until", help="ISO datetime, or 'none'")
        update.add_argument("--no-code-share", type=float)
        update.add_argument(
            "--top-countries-by-slug",
            action=BooleanOptionalAction,
            help="answer getTopCountriesByService keyed by country slug, then partner id (SMSBower)",
        )
        self._settings_options(update)
        sms = sub.add_parser("sms", help="deliver an SMS by hand")
        sms.add_argument("target_id", type=int)
        sms.add_argument("text")

    @staticmethod
    def _settings_options(parser: CommandParser) -> None:
        parser.add_argument("--sms-delay", type=int, help="seconds from purchase to the code")
        parser.add_argument("--cancel-lock", type=int, help="seconds before a number may be cancelled")
        parser.add_argument("--lifetime", type=int, help="seconds an activation lives")
        parser.add_argument("--webhook-url")
        parser.add_argument(
            "--sold-out",
            metavar="SERVICES",
            help="comma-separated service codes this account has no numbers for ('*': all; '' : none)",
        )
        parser.add_argument(
            "--active-list",
            action=BooleanOptionalAction,
            help="--no-active-list: answer BAD_ACTION to getActiveActivations and getNumbersStatus (SMSBower)",
        )

    def handle(self, *args, command: str, **options) -> None:
        getattr(self, f"_{command}")(**options)

    def _create(self, *, balance: str, dialect: str, label: str | None, if_missing: bool, **options) -> None:
        if label and if_missing:
            existing = Account.objects.filter(label=label).first()
            if existing:
                self.stdout.write(existing.key)
                return
        if label and Account.objects.filter(label=label).exists():
            raise CommandError(f"an account labelled {label!r} exists (use --if-missing)")
        account = services.account_create(
            balance=_decimal(balance),
            dialect=dialect,
            label=label,
            webhook_url=options["webhook_url"] or "",
            sms_delay=options["sms_delay"],
            cancel_lock=options["cancel_lock"],
            lifetime=options["lifetime"],
            no_active_list=options["active_list"] is False,
        )
        if options["sold_out"]:
            account.sold_out = options["sold_out"]
            account.save(update_fields=["sold_out"])
        self.stdout.write(account.key)

    def _list(self, **options) -> None:
        self.stdout.write(f"{'label':<20} {'key':<8} {'balance':>14} dialect")
        for account in Account.objects.order_by("id"):
            self.stdout.write(
                f"{(account.label or '-'):<20} {'…' + account.key[-4:]:<8} {account.balance:>14.2f} {account.dialect}"
            )

    def _set(self, *, key: str, **options) -> None:
        account = Account.objects.filter(key=key).first()
        if account is None:
            raise CommandError("no sandbox account with that key")
        if options["balance"] is not None:
            services.account_set_balance(account=account, balance=_decimal(options["balance"]))
            account.refresh_from_db()
        fields = {
            "dialect": options["dialect"],
            "cancel_lock_seconds": options["cancel_lock"],
            "lifetime_seconds": options["lifetime"],
            "webhook_url": options["webhook_url"],
            "latency_ms": options["latency_ms"],
            "fault_actions": options["fault_actions"],
            "no_code_share": options["no_code_share"],
            "top_countries_by_slug": options["top_countries_by_slug"],
            "no_active_list": None if options["active_list"] is None else not options["active_list"],
            "sold_out": options["sold_out"],
        }
        if options["sms_delay"] is not None:
            fields["sms_delay_min"] = fields["sms_delay_max"] = options["sms_delay"]
        for item in options["fault"]:
            name, _, rate = item.partition("=")
            if name not in FAULTS:
                raise CommandError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
            try:
                value = float(rate)
            except ValueError:
                raise CommandError(f"fault rate must be a number 0..1, got {rate!r}") from None
            if not 0 <= value <= 1:
                raise CommandError(f"fault rate must be a number 0..1, got {rate!r}")
            fields[FAULTS[name]] = value
        if options["banned_until"] is not None:
            fields["banned_until"] = self._moment(options["banned_until"])
        changed = [name for name, value in fields.items() if value is not None or name == "banned_until"]
        for name in changed:
            setattr(account, name, fields[name])
        account.save()
        self.stdout.write(f"updated …{account.key[-4:]}")

    @staticmethod
    def _moment(raw: str) -> datetime | None:
        if raw.lower() == "none":
            return None
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise CommandError(f"not an ISO datetime: {raw!r}") from None
        return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)

    def _sms(self, *, target_id: int, text: str, **options) -> None:
        try:
            target = services.sms_push(target_id=target_id, text=text)
        except ApiError as err:
            raise CommandError(f"cannot deliver: {err.code}") from None
        services.deliver_webhooks()
        self.stdout.write(f"delivered to {type(target).__name__.lower()} {target.pk}")

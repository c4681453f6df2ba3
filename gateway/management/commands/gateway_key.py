"""Gateway keys from the command line: create (prints only the key, for scripts and tests), list, revoke."""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.models import ApiKey, KeyStatus, Membership, Team
from accounts.services import ActionRefused
from gateway import selectors, services
from gateway.models import GatewayKey
from gateway.services import PREFIX_LENGTH
from purchases.models import Route


def _amount(raw: str | None) -> Decimal | None:
    if raw is None:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise CommandError(f"not an amount: {raw!r}") from None
    if not amount.is_finite():
        raise CommandError(f"not an amount: {raw!r}")
    return amount


def _codes(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


class Command(BaseCommand):
    help = (
        "Gateway keys. create --team SLUG (--api-key LABEL | --route NAME) [options]: prints the new key and nothing else; "
        "list --team SLUG; revoke --team SLUG PREFIX."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="command", required=True)
        create = sub.add_parser("create", help="issue a gateway key and print it")
        create.add_argument("--team", required=True, help="the team's slug")
        upstream = create.add_mutually_exclusive_group(required=True)
        upstream.add_argument("--api-key", help="the label of the team's upstream API key")
        upstream.add_argument("--route", help="the name of the team's route across its keys")
        create.add_argument("--member", help="username it acts as (default: the team's first owner)")
        create.add_argument("--label", help="what the key is for (default: the upstream key's label)")
        create.add_argument("--daily-budget")
        create.add_argument("--max-price")
        create.add_argument("--services", help="allowed service codes, comma-separated (default: all)")
        create.add_argument("--countries", help="allowed country numbers, comma-separated (default: all)")
        create.add_argument("--read-only", action="store_true", help="it may read, never buy")
        listing = sub.add_parser("list", help="label, prefix, upstream key, member, scope, last use, status")
        listing.add_argument("--team", required=True)
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix (the first characters)")
        revoke.add_argument("--team", required=True)
        revoke.add_argument("prefix")

    def handle(self, *args, **options) -> None:
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"no team with the slug {options['team']!r}")
        owner = selectors.first_owner(team)
        if owner is None:
            raise CommandError(f"the team {team.slug!r} has no owner to act as")
        try:
            getattr(self, f"_{options['command']}")(team, owner, options)
        except ActionRefused as exc:
            raise CommandError(exc.message) from None

    def _create(self, team: Team, owner: Membership, options: dict) -> None:
        api_key = self._api_key(team, options["api_key"]) if options["api_key"] else None
        route = None
        if options["route"]:
            route = Route.objects.filter(team=team, name__iexact=options["route"].strip()).first()
            if route is None:
                raise CommandError(f"no route named {options['route']!r} in the team {team.slug!r}")
        member = owner
        if options["member"]:
            member = (
                Membership.objects.select_related("user", "team")
                .filter(team=team, user__username=options["member"])
                .first()
            )
            if member is None:
                raise CommandError(f"no member {options['member']!r} in the team {team.slug!r}")
        _gateway_key, plain = services.gateway_key_create(
            membership=owner,
            label=options["label"] or (api_key.label if api_key is not None else route.name),
            api_key=api_key,
            route=route,
            member=member,
            daily_budget=_amount(options["daily_budget"]),
            max_price=_amount(options["max_price"]),
            services=_codes(options["services"]),
            countries=_codes(options["countries"]),
            read_only=options["read_only"],
        )
        # Only the key: `KEY=$(manage.py gateway_key create ...)` in a script.
        self.stdout.write(plain)

    @staticmethod
    def _api_key(team: Team, label: str) -> ApiKey:
        keys = list(ApiKey.objects.filter(team=team, label=label).exclude(status=KeyStatus.ARCHIVED)[:2])
        if not keys:
            raise CommandError(
                f"no API key labelled {label!r} in the team {team.slug!r} (archived keys excluded)"
            )
        if len(keys) > 1:
            raise CommandError(f"several API keys of the team {team.slug!r} are labelled {label!r}")
        return keys[0]

    def _list(self, team: Team, owner: Membership, options: dict) -> None:
        for key in selectors.gateway_keys_for(owner):
            used = (
                timezone.localtime(key.last_used_at).strftime("%Y-%m-%d %H:%M")
                if key.last_used_at
                else "never"
            )
            status = "revoked" if key.revoked_at else "active"
            scope = "read-only" if key.read_only else "read-write"
            upstream = f"route:{key.route.name}" if key.route else key.api_key.label if key.api_key else "-"
            member = key.member.user.username if key.member else "-"
            self.stdout.write(f"{key.prefix}\t{key.label}\t{upstream}\t{member}\t{scope}\t{used}\t{status}")

    def _revoke(self, team: Team, owner: Membership, options: dict) -> None:
        # The prefix as listed, or the whole key (its first characters are the prefix).
        text = options["prefix"].strip()[:PREFIX_LENGTH]
        if not text:
            raise CommandError("give the key's prefix")
        keys = list(
            GatewayKey.objects.filter(team=team, prefix__startswith=text, revoked_at__isnull=True)[:2]
        )
        if not keys:
            raise CommandError(f"no active gateway key of the team {team.slug!r} starts with {text!r}")
        if len(keys) > 1:
            raise CommandError(f"several active gateway keys start with {text!r}: give more characters")
        services.gateway_key_revoke(membership=owner, gateway_key=keys[0])
        self.stdout.write(f"revoked {keys[0].prefix} ({keys[0].label})")

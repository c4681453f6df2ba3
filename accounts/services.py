"""Writes for teams, members, invites, key settings and the audit log. Keyword-only, each owns its transaction."""

import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import (
    ApiKey,
    AuditEntry,
    Invite,
    KeyStatus,
    Membership,
    Role,
    Team,
    User,
    validate_time_zone,
)
from kit.phrases import Phrase, phrase


class ActionRefused(Exception):
    """A request the rules forbid; `message` is shown to the user and nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def audit_record(
    *,
    team: Team,
    actor: User | None,
    action: str,
    summary: Phrase | str,
    api_key: ApiKey | None = None,
    amount: Decimal | None = None,
    currency: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the team's audit log. Never pass a secret in `details`.

    `summary` is a `kit.phrases.phrase`: its msgid is kept in `summary` and its parameters in
    `details["phrase"]`, so each reader sees it in their own language (`AuditEntry.summary_phrase`).
    Plain text is kept as it is (and translated when it is exactly a msgid)."""
    summary = summary if isinstance(summary, Phrase) else phrase(summary)
    details = dict(details or {})
    rest = {key: value for key, value in summary.data().items() if key != "m"}
    if rest:
        details["phrase"] = rest
    return AuditEntry.objects.create(
        team=team,
        actor=actor,
        action=action,
        summary=summary.msgid[:300],
        api_key=api_key,
        amount=amount,
        currency=currency or (api_key.currency if api_key and amount is not None else ""),
        details=details,
    )


def _role_label(role: str) -> Any:
    # The role's label, translated for whoever reads the entry; a value that is not a role as it is.
    return Role(role).label if role in Role.values else role


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "team"
    slug, n = base, 2
    while Team.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def team_create(*, user: User, name: str) -> Team:
    """Create a team owned by `user`."""
    team = Team.objects.create(name=name.strip(), slug=_unique_slug(name))
    Membership.objects.create(team=team, user=user, role=Role.OWNER)
    audit_record(
        team=team,
        actor=user,
        action="team.create",
        summary=phrase(gettext_noop("Created the team %(name)s"), name=team.name),
    )
    return team


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_create(*, membership: Membership, role: str, email: str = "") -> tuple[Invite, str]:
    """Create a single-use invite; returns it with the plain token, which is shown once and stored hashed."""
    if not membership.can_manage_members:
        raise ActionRefused(_("Only owners and admins can invite members."))
    if role == Role.OWNER and not membership.is_owner:
        raise ActionRefused(_("Only an owner can invite another owner."))
    token = secrets.token_urlsafe(32)
    invite = Invite.objects.create(
        team=membership.team,
        token_hash=_hash_token(token),
        role=role,
        email=email,
        created_by=membership.user,
    )
    audit_record(
        team=membership.team,
        actor=membership.user,
        action="member.invite",
        summary=phrase(
            gettext_noop("Invited a new %(role)s (%(email)s)"), role=_role_label(role), email=email
        )
        if email
        else phrase(gettext_noop("Invited a new %(role)s"), role=_role_label(role)),
    )
    return invite, token


def invite_lookup(*, token: str) -> Invite | None:
    return Invite.objects.select_related("team").filter(token_hash=_hash_token(token)).first()


def invite_accept(*, token: str, user: User) -> Membership:
    """Join the invite's team. The invite is claimed with a conditional update, so it works once."""
    invite = invite_lookup(token=token)
    if invite is None or not invite.is_usable:
        raise ActionRefused(_("This invite link is invalid, expired or already used."))
    if Membership.objects.filter(team=invite.team, user=user).exists():
        raise ActionRefused(_("You are already a member of %s.") % invite.team.name)
    with transaction.atomic():
        claimed = Invite.objects.filter(
            pk=invite.pk, used_at__isnull=True, expires_at__gt=timezone.now()
        ).update(used_at=timezone.now(), used_by=user)
        if not claimed:
            raise ActionRefused(_("This invite link is invalid, expired or already used."))
        try:
            membership = Membership.objects.create(team=invite.team, user=user, role=invite.role)
        except IntegrityError:
            raise ActionRefused(_("You are already a member of %s.") % invite.team.name) from None
        audit_record(
            team=invite.team,
            actor=user,
            action="member.join",
            summary=phrase(
                gettext_noop("%(user)s joined as %(role)s"), user=user.username, role=_role_label(invite.role)
            ),
        )
    return membership


def _lock_team(membership: Membership) -> Membership:
    """Lock the member's team row, so owner counts and role changes run one after another, and return the
    member as it is now (a concurrent request may have changed the role or removed them)."""
    # Locking only the target membership let two owners demote (or remove) each other at once: each
    # counted two owners before either change was committed, and the team was left with none.
    Team.objects.select_for_update().filter(pk=membership.team_id).values_list("pk", flat=True).get()
    current = Membership.objects.select_related("team", "user").filter(pk=membership.pk).first()
    if current is None:
        raise ActionRefused(_("You are no longer a member of this team."))
    return current


def limit_change_refusal(*, membership: Membership, target: Membership) -> str | None:
    """Why `membership` may not change `target`'s daily spend limit, or None when it may.

    Nobody changes their own limit, and only an owner changes an admin's or an owner's limit (an admin
    must not lift its own cap, or a fellow admin's).
    """
    if target.pk == membership.pk:
        return _("Nobody can change their own daily spend limit; ask an owner.")
    if target.role in (Role.OWNER, Role.ADMIN) and not membership.is_owner:
        return _("Only an owner can change an admin's or an owner's daily spend limit.")
    return None


def _owner_count(team: Team) -> int:
    return Membership.objects.filter(team=team, role=Role.OWNER).count()


@transaction.atomic
def member_update(
    *, membership: Membership, target: Membership, role: str, daily_spend_limit: Decimal | None
) -> Membership:
    """Change a member's role and daily spend limit. Admins cannot touch owners; a team keeps one owner;
    limits follow `limit_change_refusal`."""
    membership = _lock_team(membership)
    target = Membership.objects.select_for_update().get(pk=target.pk, team=membership.team)
    if not membership.can_manage_members:
        raise ActionRefused(_("Only owners and admins can change members."))
    if not membership.is_owner and (target.role == Role.OWNER or role == Role.OWNER):
        raise ActionRefused(_("Only an owner can change an owner or make someone owner."))
    if target.role == Role.OWNER and role != Role.OWNER and _owner_count(membership.team) == 1:
        raise ActionRefused(_("A team needs at least one owner."))
    if target.daily_spend_limit != daily_spend_limit:
        refusal = limit_change_refusal(membership=membership, target=target)
        if refusal:
            raise ActionRefused(refusal)
    changes = {}
    if target.role != role:
        changes["role"] = [target.role, role]
    if target.daily_spend_limit != daily_spend_limit:
        changes["daily_spend_limit"] = [str(target.daily_spend_limit), str(daily_spend_limit)]
    target.role, target.daily_spend_limit = role, daily_spend_limit
    target.save(update_fields=["role", "daily_spend_limit"])
    if changes:
        audit_record(
            team=membership.team,
            actor=membership.user,
            action="member.update",
            summary=phrase(gettext_noop("Changed %(user)s"), user=target.user.username),
            details=changes,
        )
    return target


@transaction.atomic
def member_remove(*, membership: Membership, target: Membership) -> None:
    """Remove a member (or leave, when target is oneself). The last owner cannot leave."""
    membership = _lock_team(membership)
    target = (
        Membership.objects.select_for_update().select_related("user").get(pk=target.pk, team=membership.team)
    )
    leaving = target.pk == membership.pk
    if not leaving and not membership.can_manage_members:
        raise ActionRefused(_("Only owners and admins can remove members."))
    if not leaving and target.role == Role.OWNER and not membership.is_owner:
        raise ActionRefused(_("Admins cannot remove an owner."))
    if target.role == Role.OWNER and _owner_count(membership.team) == 1:
        raise ActionRefused(_("The last owner cannot leave; make someone else owner first."))
    target.delete()
    audit_record(
        team=membership.team,
        actor=membership.user,
        action="member.leave" if leaving else "member.remove",
        summary=phrase(
            gettext_noop("%(user)s left the team") if leaving else gettext_noop("Removed %(user)s"),
            user=target.user.username,
        ),
    )


def api_key_update_settings(
    *,
    membership: Membership,
    api_key: ApiKey,
    label: str,
    daily_budget: Decimal | None,
    max_price: Decimal | None,
    restrict_to_members: bool,
    allowed_members: list[Membership],
) -> ApiKey:
    """Rename a key and set its grants, daily budget and maximum price per purchase."""
    if not membership.can_manage_keys:
        raise ActionRefused(_("Only owners and admins can change keys."))
    if any(m.team_id != api_key.team_id for m in allowed_members):
        raise ActionRefused(_("Grants can only name members of this team."))
    with transaction.atomic():
        api_key.label = label.strip()
        api_key.daily_budget = daily_budget
        api_key.max_price = max_price
        api_key.restrict_to_members = restrict_to_members
        api_key.save(update_fields=["label", "daily_budget", "max_price", "restrict_to_members"])
        api_key.allowed_members.set(allowed_members)
        audit_record(
            team=api_key.team,
            actor=membership.user,
            action="key.update",
            api_key=api_key,
            summary=phrase(gettext_noop("Changed the settings of key %(label)s"), label=api_key.label),
            details={
                "daily_budget": str(daily_budget),
                "max_price": str(max_price),
                "restrict_to_members": restrict_to_members,
                "allowed_members": sorted(m.user.username for m in allowed_members),
            },
        )
    return api_key


def api_key_set_status(*, membership: Membership, api_key: ApiKey, status: str) -> ApiKey:
    """Disable, re-enable or archive a key; history made with it stays."""
    if not membership.can_manage_keys:
        raise ActionRefused(_("Only owners and admins can change keys."))
    if status not in KeyStatus.values:
        raise ActionRefused(_("Unknown key status."))
    if api_key.status == KeyStatus.ARCHIVED and status != KeyStatus.ARCHIVED:
        raise ActionRefused(_("An archived key cannot be used again; add it anew."))
    with transaction.atomic():
        api_key.status = status
        api_key.save(update_fields=["status"])
        audit_record(
            team=api_key.team,
            actor=membership.user,
            action=f"key.{status}",
            api_key=api_key,
            summary=phrase(
                gettext_noop("Set key %(label)s to %(status)s"),
                label=api_key.label,
                status=KeyStatus(status).label,
            ),
        )
    return api_key


def api_key_rotate_webhook(*, membership: Membership, api_key: ApiKey) -> ApiKey:
    """Give the key a new webhook URL (a new secret token); the old URL answers 404 from the moment this commits.

    The provider keeps posting to the old URL until the team pastes the new one into its settings there;
    meanwhile codes still arrive by polling. The token never goes into the audit entry.
    """
    if not membership.can_manage_keys:
        raise ActionRefused(_("Only owners and admins can change keys."))
    if api_key.status == KeyStatus.ARCHIVED:
        raise ActionRefused(_("An archived key cannot be used again; add it anew."))
    with transaction.atomic():
        api_key.webhook_token = secrets.token_urlsafe(32)
        api_key.save(update_fields=["webhook_token"])
        audit_record(
            team=api_key.team,
            actor=membership.user,
            action="key.webhook_rotate",
            api_key=api_key,
            summary=phrase(gettext_noop("Changed the webhook URL of key %(label)s"), label=api_key.label),
        )
    return api_key


def invite_revoke(*, membership: Membership, invite: Invite) -> None:
    """Withdraw a pending invite so its link stops working; used invites stay as history."""
    if not membership.can_manage_members:
        raise ActionRefused(_("Only owners and admins can revoke invites."))
    if invite.team_id != membership.team_id:
        raise ActionRefused(_("This invite belongs to another team."))
    with transaction.atomic():
        revoked = Invite.objects.filter(pk=invite.pk, used_at__isnull=True).update(expires_at=timezone.now())
        if revoked:
            audit_record(
                team=membership.team,
                actor=membership.user,
                action="member.invite_revoke",
                summary=phrase(
                    gettext_noop("Revoked an invite for a new %(role)s (%(email)s)"),
                    role=_role_label(invite.role),
                    email=invite.email,
                )
                if invite.email
                else phrase(
                    gettext_noop("Revoked an invite for a new %(role)s"), role=_role_label(invite.role)
                ),
            )


def user_signup(*, username: str, email: str, password: str) -> User:
    """Create a login (password already validated by the form)."""
    return User.objects.create_user(username=username, email=email, password=password)


def team_update_settings(
    *, membership: Membership, name: str, auto_cancel_minutes: int, time_zone: str | None = None
) -> Team:
    """Rename the team, set when numbers without a code are cancelled for a refund, and its time zone
    (where its day starts for limits and budgets; None keeps it)."""
    if not membership.can_manage_members:
        raise ActionRefused(_("Only owners and admins can change the team's settings."))
    team = membership.team
    time_zone = time_zone or team.time_zone
    changes = {
        field: [str(getattr(team, field)), str(value)]
        for field, value in (
            ("name", name.strip()),
            ("auto_cancel_minutes", auto_cancel_minutes),
            ("time_zone", time_zone),
        )
        if getattr(team, field) != value
    }
    if not changes:
        return team
    with transaction.atomic():
        team.name, team.auto_cancel_minutes, team.time_zone = name.strip(), auto_cancel_minutes, time_zone
        team.save(update_fields=["name", "auto_cancel_minutes", "time_zone"])
        audit_record(
            team=team,
            actor=membership.user,
            action="team.update",
            summary=phrase(gettext_noop("Changed the team's settings")),
            details=changes,
        )
    return team


def user_set_preferences(*, user: User, language: str | None = None, time_zone: str | None = None) -> User:
    """Save the user's language and/or time zone ("" follows the browser / the team; None keeps it)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ActionRefused(_("This language is not offered."))
    if time_zone:
        try:
            validate_time_zone(time_zone)
        except ValidationError as exc:
            raise ActionRefused(" ".join(exc.messages)) from None
    fields = []
    if language is not None and language != user.language:
        user.language = language
        fields.append("language")
    if time_zone is not None and time_zone != user.time_zone:
        user.time_zone = time_zone
        fields.append("time_zone")
    if fields:
        user.save(update_fields=fields)
    return user

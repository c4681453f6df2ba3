"""Call verification: the incoming call's status, outgoing call tasks and their list.

An activation bought with call verification receives a call instead of (or besides) an SMS; the
provider tells its status with getIncomingCallStatus. createTaskForCall asks the provider to call a
phone from the activation's number; it changes state upstream, so it is sent once and audited.
The provider's refusals are raised as ActionRefused in plain words with the provider's error as their
cause, for callers that answer in the protocol (the gateway).
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from accounts.models import Membership
from accounts.services import ActionRefused, audit_record
from activations.models import Activation
from kit.phrases import phrase
from providers import errors
from providers.keys import client_for_key, profile_for_key
from providers.results import IncomingCallStatus, OutgoingCall
from purchases.messages import describe_error
from purchases.services import Via, named_via

# getIncomingCallStatus statuses, as documented.
INCOMING_STATES = {
    "2": gettext_lazy("Waiting for the call"),
    "3": gettext_lazy("Call received, activation closed"),
    "4": gettext_lazy("Cancelled"),
    "5": gettext_lazy("Returned (expired)"),
}


@dataclass(frozen=True)
class CallsPanel:
    """What the calls panel of an activation shows; `error` explains a part the provider would not tell."""

    incoming: IncomingCallStatus | None
    incoming_label: str
    outgoing: list[OutgoingCall]
    can_order_calls: bool
    error: str = ""


def _require_upstream(activation: Activation) -> None:
    if not activation.upstream_id:
        raise ActionRefused(_("The provider has not confirmed this number yet."))


def incoming_call_status(*, activation: Activation) -> IncomingCallStatus:
    """getIncomingCallStatus for a call-verification activation. Raises ActionRefused in plain words."""
    _require_upstream(activation)
    if not activation.verification:
        raise ActionRefused(_("This number was not bought with call verification."))
    try:
        return client_for_key(activation.api_key).get_incoming_call_status(
            activation_id=activation.upstream_id
        )
    except errors.ProviderError as exc:
        raise ActionRefused(describe_error(exc)) from exc


def outgoing_calls(*, activation: Activation) -> list[OutgoingCall]:
    """getOutgoingCalls of today for this activation."""
    _require_upstream(activation)
    try:
        # Filtered upstream by activationId.
        return client_for_key(activation.api_key).get_outgoing_calls(activation_id=activation.upstream_id)
    except errors.ProviderError as exc:
        raise ActionRefused(describe_error(exc)) from exc


def outgoing_call_create(
    *, membership: Membership, activation: Activation, phone: str, via: Via | None = None
) -> str:
    """createTaskForCall: the provider calls `phone` from the activation's number. Sent once, never retried.
    `via`: ordered by a gateway key's script, named in the audit log."""
    if not membership.can_buy:
        raise ActionRefused(_("Viewers cannot order calls."))
    if activation.team_id != membership.team_id:
        raise ActionRefused(_("Unknown activation."))
    _require_upstream(activation)
    if not activation.is_live:
        raise ActionRefused(_("Calls can only be ordered while the number is active."))
    if not profile_for_key(activation.api_key).supports_action("createTaskForCall"):
        raise ActionRefused(_("This provider does not offer outgoing calls."))
    try:
        message = client_for_key(activation.api_key).create_task_for_call(
            activation_id=activation.upstream_id, phone=phone
        )
    except errors.ProviderError as exc:
        raise ActionRefused(describe_error(exc)) from exc
    summary = phrase(
        gettext_noop("Ordered a call from %(number)s to %(phone)s"), number=activation.phone, phone=phone
    )
    audit_record(
        team=activation.team,
        actor=membership.user,
        action="activation.call",
        api_key=activation.api_key,
        summary=named_via(summary, via),
    )
    return message


def calls_panel(*, activation: Activation) -> CallsPanel:
    """Everything the calls panel shows, reading what the provider supports; never raises."""
    profile = profile_for_key(activation.api_key)
    problems: list[str] = []
    incoming = None
    if activation.verification and profile.supports_action("getIncomingCallStatus"):
        try:
            incoming = incoming_call_status(activation=activation)
        except ActionRefused as exc:
            problems.append(exc.message)
    outgoing: list[OutgoingCall] = []
    if profile.supports_action("getOutgoingCalls") and activation.upstream_id:
        try:
            outgoing = outgoing_calls(activation=activation)
        except ActionRefused as exc:
            problems.append(exc.message)
    label = str(INCOMING_STATES.get(incoming.status, incoming.status)) if incoming else ""
    return CallsPanel(
        incoming=incoming,
        incoming_label=label,
        outgoing=outgoing,
        can_order_calls=activation.is_live and profile.supports_action("createTaskForCall"),
        error=" ".join(problems),
    )

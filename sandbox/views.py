"""The handler_api endpoint: read the parameters, check the key, inject faults, dispatch the action."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox import actions, answers, catalog, faults, selectors, services
from sandbox.answers import Answer
from sandbox.errors import ApiError

# Webhooks due at the end of a request are sent inline, a few at a time; the tick sends the rest.
INLINE_WEBHOOKS = 5
# What an account with `no_active_list` does not implement, as SMSBower does not (protocol.md quirk 25).
LISTLESS_ACTIONS = frozenset({"getActiveActivations", "getNumbersStatus"})


def request_params(request: HttpRequest) -> dict[str, str]:
    """Query string over POST body; keys stripped, since one client sends `'time '` with a space."""
    params: dict[str, str] = {}
    for source in (request.POST, request.GET):
        for key in source:
            params[key.strip()] = source.get(key, "")
    return params


def _respond(answer: Answer) -> HttpResponse:
    response = HttpResponse(
        answer.body.encode() if isinstance(answer.body, str) else answer.body,
        status=answer.status,
        content_type=answer.content_type,
    )
    for name, value in answer.headers.items():
        response[name] = value
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def handler(request: HttpRequest, hero_keys: bool = False) -> HttpResponse:
    """`/sandbox/stubs/handler_api.php`; under `/sandbox/hero/` a bad key answers HeroSMS's 401 envelope."""
    now = timezone.now()
    catalog.ensure_catalog()
    services.advance(now)
    try:
        answer = dispatch(request_params(request), now, hero_keys=hero_keys)
    finally:
        services.deliver_webhooks(limit=INLINE_WEBHOOKS)
    return _respond(answer)


def dispatch(params: dict[str, str], now: datetime, *, hero_keys: bool = False) -> Answer:
    """Key, action, faults, then the action itself; every outcome is an Answer."""
    key = params.get("api_key", "").strip()
    if not key:
        if hero_keys:
            # HeroSMS validates the key's presence first: 422 naming the field, whatever the action.
            missing = ApiError(
                "UNPROCESSABLE_ENTITY", info={"field": "api_key", "code": "REQUIRED", "message": ""}
            )
            return answers.error(True, missing)
        return answers.token(False, "NO_KEY")
    account = selectors.account_by_key(key)
    if account is None:
        if hero_keys:
            return answers.error(True, ApiError("BAD_KEY"))
        return answers.token(False, "BAD_KEY")
    action = params.get("action", "").strip()
    spec = actions.ACTIONS.get(action)
    if spec is None or (account.no_active_list and action in LISTLESS_ACTIONS):
        return answers.error(account.is_hero, ApiError("BAD_ACTION"))
    plan = faults.before(account, action=action, kind=spec.kind, rent=spec.rent, now=now)
    if isinstance(plan, Answer):
        return plan
    try:
        answer = spec.func(actions.Call(account=account, params=params, now=now))
    except ApiError as err:
        return answers.error(account.is_hero, err, rent=spec.rent)
    return faults.after(plan, answer)

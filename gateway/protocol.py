"""`/stubs/handler_api.php`: the provider protocol served to the team's own scripts.

A script changes only its base URL and key: the same actions, parameters and answers as its upstream
provider (GET or POST, parameters in the query string or the form body). The key is a gateway key
(`gateway.models.GatewayKey`), never a provider's.
"""

from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from gateway import (
    actions,  # noqa: F401  (registers every action)
    answers,
)
from gateway.limits import flood_refusal
from gateway.registry import ACTIONS, Call
from gateway.services import authenticate
from providers.keys import profile_for_key


def _params(request: HttpRequest) -> QueryDict:
    # The query string, then the form body on top: clients send either, some both.
    merged = request.GET.copy()
    if request.method == "POST":
        for name, values in request.POST.lists():
            merged.setlist(name, values)
    return merged


@csrf_exempt  # scripts, not browsers: the key in the request is the credential
@require_http_methods(["GET", "POST"])
def handler_api(request: HttpRequest) -> HttpResponse:
    """Answer one protocol call in the dialect of the gateway key's upstream."""
    params = _params(request)
    gateway_key = authenticate(params.get("api_key", ""))
    if gateway_key is None or gateway_key.upstream is None:
        answer = answers.token(False, "BAD_KEY")
    else:
        call = Call(
            gateway_key=gateway_key, params=params, dialect=profile_for_key(gateway_key.upstream).dialect
        )
        found = ACTIONS.get(params.get("action", ""))
        flooded = flood_refusal(gateway_key, hero=call.hero)
        if flooded is not None:
            answer = flooded
        elif found is None:
            answer = answers.token(call.hero, "BAD_ACTION")
        elif found.spends and gateway_key.read_only:
            answer = answers.error(call.hero, "BAD_KEY")
        else:
            answer = found.handler(call)
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers.items():
        response[name] = value
    return response

"""The translations our scripts use (gettext, ngettext, interpolate in static/js), one catalog per language.

The language is in the URL (base.html asks for the page's own), so an answer depends on nothing else: it
is rendered once per language and process, and a browser keeps it and asks again with If-Modified-Since,
answered 304 without rendering until the server restarts (new translations arrive with a restart).
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import last_modified, require_GET
from django.views.i18n import JavaScriptCatalog

STARTED_AT = timezone.now()

_catalog = JavaScriptCatalog.as_view()
_rendered: dict[str, bytes] = {}


@require_GET
@cache_control(private=True, no_cache=True)
@last_modified(lambda request, lang: STARTED_AT)
def javascript_catalog(request: HttpRequest, lang: str) -> HttpResponse:
    """The JavaScript catalog of `lang` (404 for a language we do not offer)."""
    if lang not in dict(settings.LANGUAGES):
        raise Http404
    if lang not in _rendered:
        with translation.override(lang):
            response = _catalog(request)
        _rendered[lang] = response.content
    return HttpResponse(_rendered[lang], content_type="text/javascript; charset=utf-8")

"""Fragment or page: the one place that decides whether a view answers with an htmx region or the page.

htmx asks for a region with `HX-Request: true`. Two of its requests carry that header and still want
the whole page: a boosted link or form (`HX-Boosted`), which swaps the page's body, and a history
restore (`HX-History-Restore-Request`), sent when Back finds nothing in htmx's history cache. A bare
region there shows a broken page.

The answer then depends on those headers, so it says so (`Vary`): a browser or proxy cache must not
hand the region to a plain visit of the same address, nor the page to htmx. `wants_fragment` marks
the request it decided for, and `VaryOnFragmentMiddleware` adds the header to whatever the view then
answered (the region, the page or a redirect), so no view can send one without the other.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.cache import patch_vary_headers

# Every request header the choice below reads.
VARY = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")
_ASKED = "_studio_fragment_or_page"


def wants_fragment(request: HttpRequest) -> bool:
    """htmx asked for a region: an htmx request that is neither boosted nor a history restore."""
    setattr(request, _ASKED, True)
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


class VaryOnFragmentMiddleware:
    """Adds `Vary` on the headers above to the answer of every request `wants_fragment` decided."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, _ASKED, False):
            patch_vary_headers(response, VARY)
        return response

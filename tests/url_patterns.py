"""Every URL the studio routes, walked from Django's resolver: the sweeps that must reach each page (isolation,
hostile input, French) find a page added later without being told."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def url_routes(*, admin: bool = False, patterns=None, namespace=None, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(namespaced name, route) of every URL pattern; Django's admin only when asked."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if admin or pattern.namespace != "admin":
                yield from url_routes(admin=admin, patterns=pattern.url_patterns,
                                      namespace=pattern.namespace or namespace, prefix=prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}:{pattern.name}" if namespace else str(pattern.name)), prefix + str(pattern.pattern)


def url_names(*, admin: bool = False) -> Iterator[str]:
    return (name for name, _route in url_routes(admin=admin))

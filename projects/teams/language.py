"""A user's interface language: "" follows the browser, a code from settings.LANGUAGES wins over it.

Kept in the session as well as on UserPreference, so that the middleware answers every page
without a query; login and the settings form keep the two in step."""

from django.conf import settings

from projects.models import UserPreference

SESSION_KEY = "studio_language"


def _known(language: str) -> str:
    return language if language in dict(settings.LANGUAGES) else ""


def stored_language(user) -> str:
    language = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    return _known(language or "")


def chosen_language(request) -> str:
    """The language the signed-in user chose, or "" to follow the browser."""
    language = request.session.get(SESSION_KEY)
    if language is None:  # a session from before the choice existed
        language = stored_language(request.user)
        request.session[SESSION_KEY] = language
    return _known(language)


def remember_language(request, language: str) -> None:
    request.session[SESSION_KEY] = _known(language)


def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        remember_language(request, stored_language(user))


def preference_set_language(*, request, language: str) -> str:
    """Stores the user's language ("" = the browser's) and switches this session to it at once."""
    language = _known(language)
    UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
    remember_language(request, language)
    return language

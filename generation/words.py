"""Sentences the studio stores and shows later, kept as a code and its parameters and worded when shown.

A take that ended without a video keeps why (Render.error_message), and the activity feed keeps what
happened (Activity.text): whoever wrote it (a worker, a teammate in another language) is not who reads
it, so a sentence written then would speak the writer's language to everyone. What is stored beside
it instead is `stored(...)`: a list of `{"key": …, "params": {…}}`, one per sentence, said again in
the reader's language by `worded(...)` each time a page or an email shows it (the English sentence
stays in the text column, for logs, exports' manifests and rows stored before the codes).

A leaf: it knows Django's translation and nothing of the studio, so the provider adapters (which
speak the wire only) word their errors with it too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

# Each code, and its sentence with named parameters. A code, once stored, is never reused for other words:
# old rows say it again. Parameters are plain text (names, numbers, a provider's own words) or, for a
# sentence quoted inside another, a stored Said.
WORDS: dict[str, Promise] = {
    # Canceling a take (generation.renders.services.render_cancel, pipeline.render_cancel_at_provider).
    "take.canceled": _("Canceled."),
    "take.canceled_by": _("Canceled by %(who)s."),
    "take.canceled_at_provider": _("Canceled at the provider."),
    "take.no_cancel": _("%(provider)s has no cancel: the job runs to its end and may be billed."),
    "take.no_cancel_will_delete": _("%(provider)s has no cancel: the job runs to its end and may be billed; "
                                    "the studio will delete its copy."),
    "take.no_cancel_deleted": _("%(provider)s has no cancel: the job runs to its end and may be billed; the "
                                "studio deleted its copy when the job ended."),
    "take.not_refunded": _("%(provider)s does not refund a job canceled while it runs: its cost stays counted."),
    "take.consent_revoked": _("Consent revoked: %(why)s"),
    # An unclear answer to a create (generation.renders.lookups): what a take says while the studio looks for
    # its job, and how it ends when the job cannot be found.
    "take.sent_no_answer": _("The studio sent this take and %(provider)s's answer was an error or never came."),
    "take.worker_stopped": _("The studio stopped while sending this take."),
    "take.unconfirmed_no_list": _(
        "Unconfirmed — may be billed: %(unclear)s %(provider)s cannot list its jobs, so the studio cannot tell "
        "whether this take was created. %(hint)s Its cost stays counted in the budget."),
    "take.unconfirmed_refused": _(
        "Unconfirmed — may be billed: %(unclear)s %(provider)s refused to list its jobs (%(detail)s), so the studio "
        "cannot tell whether this take was created. %(hint)s Its cost stays counted in the budget."),
    "take.unconfirmed_no_answer": _(
        "Unconfirmed — may be billed: %(unclear)s %(provider)s's job list did not answer in the %(minutes)s min the "
        "studio looked, so it cannot tell whether this take was created. %(hint)s Its cost stays counted in the "
        "budget."),
    "take.unconfirmed_internal": _(
        "Unconfirmed — may be billed: %(unclear)s The studio hit an internal error (%(detail)s) while looking for "
        "the job, so it cannot tell whether this take was created. %(hint)s Its cost stays counted in the budget."),
    "take.nothing_made": _(
        "%(provider)s gave no clear answer to the %(attempts)s creates of this take, and its job list showed no job "
        "for it in the %(minutes)s min after each: nothing was created, so nothing is counted for it. "
        "Retry the take later."),
    "take.never_created": _("The studio stopped while sending this take; nothing was created. Retry the take."),
    "take.refused_after_unclear": _("%(refusal)s The earlier creates of this take got no clear answer, but "
                                    "%(provider)s's job list never showed a job for it: nothing was created, so "
                                    "nothing is counted for it."),
    # The pipeline (generation.renders.pipeline).
    "take.internal_error": _("The studio hit an internal error (%(error)s); retry the take."),
    "take.character_refused": _("The provider refused a character: %(why)s"),
    "take.inputs_unprepared": _("The take's inputs could not be prepared: %(why)s"),
    "take.failed_without_reason": _("The provider reported a failure without a reason."),
    "take.not_a_video": _("The provider sent a file that is not a playable video."),
    "take.not_stored": _("The result could not be stored: %(why)s"),
    "take.storage_refused": _("The result could not be stored (the media storage did not accept it). Retry the take."),
    "take.not_joined": _("The provider's continuation could not be joined to take %(take)s: %(why)s."),
    "take.extended_unreadable": _("Take %(take)s, which this take extends, could not be read to join the "
                                  "continuation to it (%(why)s)."),
    "take.not_cut": _("The provider sent a file the studio could not cut into its scenes: %(why)s"),
    # A provider's answer, as every adapter's HTTP client reads it (generation.providers.http).
    "provider.not_called": _("%(provider)s was not called: %(refusal)s"),
    "provider.unreachable": _("Could not reach %(provider)s. Check its address and the network."),
    "provider.not_http": _("The address configured for %(provider)s is not an http(s) URL."),
    "provider.uncertain": _("The provider did not answer in time; the job may or may not have been created. "
                            "Check the provider before retrying."),
    "provider.ambiguous": _("%(provider)s answered HTTP %(status)s after receiving the request; the job may or may "
                            "not have been created. Check the provider before retrying."),
    "provider.expired": _("The provider no longer has this result (it expired)."),
    "provider.slow": _("%(provider)s did not answer in time. The studio will try again."),
    "provider.unreadable": _("%(provider)s sent an answer the studio cannot read."),
    "provider.auth": _("Authentication failed: check the API key for %(provider)s."),
    "provider.auth_said": _("Authentication failed: check the API key for %(provider)s. The provider said: "
                            "%(said)s"),
    "provider.model_unknown": _("The model “%(model)s” is unknown or retired at this provider."),
    "provider.quota": _("%(provider)s refused the job: the account is out of quota or credit."),
    "provider.quota_said": _("%(provider)s refused the job: the account is out of quota or credit. The provider "
                             "said: %(said)s"),
    "provider.rate_limited": _("%(provider)s is limiting how fast we send requests. The studio will try again."),
    "provider.server": _("%(provider)s had a problem on its side (HTTP %(status)s). Try again in a few minutes."),
    "provider.refused": _("%(provider)s refused the request: %(detail)s"),
    "provider.refused_status": _("%(provider)s refused the request: HTTP %(status)s"),
    "provider.too_many_redirects": _("The provider redirected the download too many times."),
    "provider.download_blocked": _("%(provider)s pointed the download at an address the studio does not call: "
                                   "%(refusal)s"),
    "provider.download_unreachable": _("Could not reach %(provider)s to download the result. The studio will try "
                                       "again."),
    "provider.download_stopped": _("%(provider)s stopped sending the result. The studio will try again."),
    "provider.wrong_file_type": _("%(provider)s sent a %(got)s file instead of %(expected)s."),
    "provider.download_not_http": _("%(provider)s pointed the download at an address that is not an http(s) URL."),
    "provider.download_cut": _("The download from the provider was cut off before the end. The studio will try "
                               "again."),
    "provider.too_large": _("The provider's result is larger than the %(megabytes)s MB the studio accepts."),
    # Google Veo on the Gemini API (generation.providers.veo): why an operation ended without a video.
    "veo.gone": _("Google no longer knows this job: the Gemini API keeps a video's operation and result for two "
                  "days."),
    "veo.blocked": _("Refused by Google's safety filters: the video was blocked. Rephrase the prompt or change the "
                     "images."),
    "veo.blocked_said": _("Refused by Google's safety filters: the video was blocked. Google said: %(said)s"),
    "veo.refused": _("Refused by Google's safety filters: %(message)s"),
    "veo.no_video": _("Google finished the job but sent no video. Retry the take."),
    "veo.failed": _("Google could not make the video: %(message)s"),
    "veo.failed_unsaid": _("Google did not say why the video failed."),
    # The activity feed (projects.activity.feed.record): each line follows the name of who did it.
    "feed.render_started": _("started take %(number)s of %(scene)s on %(model)s"),
    "feed.render_finished": _("take %(number)s of %(scene)s finished"),
    "feed.render_failed": _("take %(number)s of %(scene)s failed"),
    "feed.render_failed_why": _("take %(number)s of %(scene)s failed: %(why)s"),
    "feed.render_unconfirmed": _("take %(number)s of %(scene)s is unconfirmed: %(why)s"),
    "feed.commented": _("commented on %(scene)s take %(number)s: %(body)s"),
    "feed.commented_at": _("commented on %(scene)s take %(number)s at %(at)s: %(body)s"),
    "feed.replied": _("replied to %(who)s on %(scene)s take %(number)s: %(body)s"),
    "feed.approved": _("approved %(scene)s take %(number)s"),
    "feed.approved_despite": _("approved %(scene)s take %(number)s despite failed checks. %(reason)s"),
    "feed.changes_requested": _("requested changes to %(scene)s take %(number)s: %(body)s"),
    "feed.project_created": _("created the project %(name)s"),
    "feed.scene_created": _("added scene %(number)s, %(title)s"),
    "feed.reference_image": _("edited %(scene)s: reference image"),
    "feed.reference_fit": _("edited %(scene)s: reference image fit"),
    "feed.dialogue": _("edited %(scene)s: dialogue"),
    "feed.dialogue_cast": _("edited %(scene)s: dialogue, cast"),
    "feed.back_in_cut": _("put %(scene)s back in the cut"),
    "feed.out_of_cut": _("left %(scene)s out of the cut"),
    "feed.moved": _("moved %(scene)s from scene %(before)s to %(after)s"),
    "feed.scene_deleted": _("deleted scene %(number)s, %(title)s"),
    "feed.scenes_deleted": _("deleted %(count)s scenes: %(titles)s"),
    "feed.scenes_restored": _("restored from the trash: %(names)s"),
    "feed.scenes_purged": _("deleted forever from the trash: %(names)s"),
    "feed.model_retiring": ngettext_lazy(
        "%(model)s retires on %(when)s: %(count)s scene uses it (%(names)s). Move them to another model before then.",
        "%(model)s retires on %(when)s: %(count)s scenes use it (%(names)s). Move them to another model before then.",
        "count"),
}

Param = Union[str, int, float, "Said"]


@dataclass(frozen=True)
class Said:
    """One stored sentence: its code and parameters. `str()` words it in the active language."""

    key: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def __str__(self) -> str:
        template = WORDS.get(self.key)
        # Numbers stay numbers: a plural's form is chosen by one (ngettext_lazy's "count").
        values = {name: str(value) if isinstance(value, Said) else value for name, value in self.params.items()}
        if template is None:  # a code this studio no longer knows: its parameters are all there is
            return " ".join(str(value) for value in values.values())
        try:
            return str(template % values)
        except (KeyError, TypeError, ValueError):  # a translation that lost a parameter: say it in English
            with translation.override("en"):
                return str(template % values)

    def english(self) -> str:
        with translation.override("en"):
            return str(self)

    def stored(self) -> dict[str, Any]:
        return {"key": self.key,
                "params": {name: value.stored() if isinstance(value, Said) else value
                           for name, value in self.params.items()}}

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Said:
        params = data.get("params") or {}
        return cls(str(data.get("key", "")),
                   {name: cls.load(value) if isinstance(value, Mapping) else value for name, value in params.items()})


def said(key: str, **params: Param) -> Said:
    if key not in WORDS:
        raise KeyError(f"no words for {key!r}: add them to generation.words.WORDS")
    return Said(key, params)


def stored(words: Said | Sequence[Said]) -> list[dict[str, Any]]:
    """What a row keeps: one entry per sentence."""
    return [w.stored() for w in ([words] if isinstance(words, Said) else words)]


def english(words: Said | Sequence[Said]) -> str:
    with translation.override("en"):
        return worded(stored(words))


def worded(entries: Sequence[Mapping[str, Any]] | None) -> str:
    """Stored sentences in the active language, one after the other."""
    return " ".join(str(Said.load(entry)) for entry in entries or () if isinstance(entry, Mapping))

"""The notes the studio ships on its catalog entries (written by the generation migrations), for the translators.

A shipped entry's note is stored in English; the catalog page says it in the reader's language when it is one of
these (`{% translate e.model.notes %}`). A note an owner wrote for their team is shown as they wrote it.
tests/test_french_everywhere.py checks that every shipped note is here, with its French."""

from django.utils.translation import gettext_noop

SHIPPED_NOTES = (
    gettext_noop("3–5 shots only, 5/10/15 s in all; 1080p ratios use Runway's pro tier. Prices are estimates: each "
                 "take records the credits Runway charged."),
    gettext_noop("Animates a start frame: image to video only. Price estimated from Runway's credit rates (1 credit "
                 "= $0.01), read 2026-11; check docs.dev.runwayml.com."),
    gettext_noop("Built-in, offline, free."),
    gettext_noop("Durations and price are estimates [3p]; check docs.dev.runwayml.com."),
    gettext_noop("Endpoint id, durations and price are estimates [3p]; check fal.ai/models."),
    gettext_noop("Estimated at Veo 3.1's rate; Fast may cost less. With audio: $0.40/s ($0.20/s silent), as listed "
                 "2026-11; check fal.ai/models."),
    gettext_noop("Fields: fal-js endpoint types (381105e). $0.126/s with audio, $0.084/s without (fal.ai/models, "
                 "2026-12); 720p [3p]."),
    gettext_noop("Fields: fal-js endpoint types (381105e). $0.168/s with audio, $0.112/s without (fal.ai/models, "
                 "2026-12)."),
    gettext_noop("Gemini API, Interactions API. Price is a high estimate: Google bills Omni's video by output "
                 "tokens; check ai.google.dev/gemini-api/docs/pricing and edit it."),
    gettext_noop("Price an estimate [3p]; the shots' timings travel in the prompt. Check fal.ai/models."),
    gettext_noop("Price as listed 2026-11; check the model page."),
    gettext_noop("Price estimated from Runway's credit rates (1 credit = $0.01), read 2026-11; check "
                 "docs.dev.runwayml.com."),
    gettext_noop("Price is an estimate; check the model page."),
    gettext_noop("Removed by OpenAI on 2026-09-24."),
    gettext_noop("Retired by Google (reported 2026-10-22): Veo renders through Vertex AI now."),
    gettext_noop("Vertex AI GA id. Price is an estimate with sound ($0.15/s); 1080p only at 8 s."),
    gettext_noop("Vertex AI GA id. Price is an estimate with sound ($0.40/s); 1080p only at 8 s."),
    gettext_noop("With audio. Price estimated from Runway's credit rates (1 credit = $0.01), read 2026-11; check "
                 "docs.dev.runwayml.com."),
    gettext_noop("With audio: $0.40/s ($0.20/s silent), as listed 2026-11; check fal.ai/models."),
)

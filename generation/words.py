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
    "veo.key_rejected": _("Authentication failed: Google rejected the API key for %(provider)s. Check the key in "
                          "Google AI Studio (API keys)."),
    "veo.vertex_way": _("Google serves Veo through Vertex AI now: add a Google Vertex AI connection under Providers "
                        "(a service account key, a project and a region) and render on its Veo 3.1 models."),
    "veo.moved": _("Google no longer takes Veo video jobs through the Gemini API (it said: %(said)s). %(way)s"),
    "veo.model_retired": _("The model “%(model)s” is retired or unknown at Google (the Gemini API does not serve "
                           "it). %(way)s"),
    "veo.no_operation": _("%(provider)s accepted the request but sent no operation name. Check your Google AI "
                          "Studio usage before retrying."),
    "veo.no_omni_extend": _("%(provider)s does not extend Gemini Omni takes."),
    "veo.extend_gone": _("Google no longer has the video to extend: the Gemini API keeps a video two days and "
                         "extends only videos Veo made. Render a new take instead."),
    "veo.failed": _("Google could not make the video: %(message)s"),
    "veo.failed_unsaid": _("Google did not say why the video failed."),
    # The provider adapters' own words (generation.providers.*): why a job was refused, failed or cannot be
    # fetched, said again in each reader's language. A provider's own words pass through untranslated as
    # a parameter (%(message)s, %(said)s, %(detail)s).
    "provider.gone": _("The provider no longer knows this job."),
    "provider.moderated": _("Refused by the provider's moderation: %(message)s"),
    "provider.failed_unsaid": _("The provider did not say why the video failed."),
    "provider.unsaid": _("The provider did not say why."),
    "provider.video_only": _("%(provider)s outputs only the video; the thumbnail is taken from it."),
    "provider.no_finished_video": _("%(provider)s has no finished video for this job."),
    "provider.no_variant": _("%(provider)s offers no “%(variant)s” variant."),
    "provider.empty_video": _("%(provider)s sent an empty video."),
    "provider.unreachable_retry": _("Could not reach %(provider)s. The studio will try again."),
    "provider.model_quota": _("%(provider)s is over its per-minute quota for this model. The studio will try again."),
    "provider.refused_input": _("%(provider)s refused the request: invalid input"),
    "provider.no_source_video": _("The take to extend has no video the studio could send."),
    "provider.no_likeness": _("%(provider)s sends no likeness references for %(model)s."),
    "provider.no_start_end": _("%(provider)s has no endpoint taking a start and an end frame for %(model)s."),
    "provider.listing_hint": _("Check the provider's own list of recent jobs."),
    "provider.unknown_kind": _("The studio cannot talk to “%(kind)s” connections."),
    "provider.no_model_list": _("%(provider)s publishes no list of its models."),
    "provider.model_no_shots": _("%(model)s takes no shot list."),
    "provider.model_resolutions": _("%(model)s renders %(choices)s, not %(size)s."),
    "provider.model_no_start_frame": _("%(model)s takes no start frame."),
    "provider.model_no_end_frame": _("%(model)s takes no end frame."),
    "take.no_reference_video": _("%(name)s has no reference video to register with the provider."),
    "comfyui.needs_address": _("A ComfyUI connection needs the server's address (base URL)."),
    "fal.listing_too_long": _("%(provider)s's request listing for %(endpoint)s runs past the %(count)s requests the "
                              "studio reads."),
    "fal.listed_address_too_long": _("%(provider)s lists this take's request %(request)s, but its address is too "
                                     "long for the studio to keep."),
    "replicate.no_signing_secret": _("%(provider)s sent no webhook signing secret."),
    "veo.image_type": _("Veo takes PNG, JPEG or WebP images, not “%(kind)s”."),
    "provider.cannot_extend": _("%(provider)s cannot extend a take."),
    "provider.cannot_remix": _("%(provider)s cannot remix a take."),
    "provider.no_characters": _("%(provider)s keeps no characters of its own."),
    "fal.end_needs_start": _("%(model)s ends on an end frame only after a start frame."),
    "fal.seedance_sizes": _("fal's Seedance 2.0 renders 480p or 720p, not %(size)s: choose a 720p size."),
    "fal.kling_end_needs_start": _("fal's Kling 3.0 ends on a frame only when it also starts from one."),
    "fal.kling_views": _("Kling 3.0 keeps %(name)s from a frontal image and at least one more view."),
    "fal.no_shots": _("fal's %(model)s takes no shot list."),
    "fal.no_copy": _("fal extends the studio's copy of the take, and there is none to send."),
    "fal.foreign_job_id": _("This take's fal job id is not one the studio wrote."),
    "runway.needs_start": _("%(provider)s's %(model)s animates a start frame: add a reference image to the scene, or "
                            "pick another model."),
    "runway.no_end_frame": _("%(provider)s's %(model)s cannot end on a frame (only %(models)s do, after a first "
                             "frame)."),
    "runway.recipe_alone": _("%(provider)s's multi-shot recipe renders %(least)s to %(most)s scenes as one take, not "
                             "one scene on its own."),
    "fal.no_request_id": _("%(provider)s accepted the request but sent no request id and addresses. Check the "
                           "provider before retrying."),
    "fal.addresses_too_long": _("%(provider)s answered with request addresses too long for the studio to keep; the "
                                "studio asked fal to cancel it. Check fal's dashboard."),
    "fal.other_host": _("%(provider)s answered with addresses on another host; the studio will not send its key "
                        "there. Check fal's dashboard for the request."),
    "fal.listing_hint": _("Look for it among your recent requests in fal's dashboard (fal.ai › Dashboard › "
                          "Requests)."),
    "runway.no_task_id": _("%(provider)s accepted the request but sent no task id. Check the provider before "
                           "retrying."),
    "runway.listing_hint": _("Look for it in Runway's developer portal (dev.runwayml.com › your organization › "
                             "Usage / Tasks); the API cannot list tasks."),
    "replicate.no_prediction_id": _("%(provider)s accepted the request but sent no prediction id. Check the "
                                    "provider before retrying."),
    "replicate.no_end_frame": _("The studio sends no end frame to %(model)s: choose a model whose catalog entry "
                                "takes one."),
    "replicate.no_shots": _("Replicate's %(model)s takes no shot list."),
    "replicate.listing_hint": _("Look for it among your recent predictions on replicate.com (Dashboard › "
                                "Predictions, or GET /v1/predictions)."),
    "openai.no_job_id": _("%(provider)s accepted the request but sent no job id. Check the provider before "
                          "retrying."),
    "openai.no_end_frame": _("The OpenAI Videos format takes a start frame only (input_reference), no end frame."),
    "openai.remix_gone": _("The provider no longer has the video to remix."),
    "openai.extend_gone": _("The provider no longer has the video to extend."),
    "openai.extends_own": _("%(provider)s extends only a video it made itself: this take has no video id there."),
    "openai.listing_hint": _("Look for it in %(provider)s's video list (GET %(base)s/videos)."),
    "comfyui.gone": _("ComfyUI no longer knows this job (was the server restarted, or the job deleted from its "
                      "queue?)."),
    "comfyui.interrupted": _("Interrupted on the ComfyUI server."),
    "comfyui.failed_in_node": _("ComfyUI failed in node %(node)s (%(type)s): %(reason)s."),
    "comfyui.failed": _("ComfyUI failed in the workflow: %(reason)s."),
    "comfyui.no_reason": _("no reason given"),
    "comfyui.out_of_memory": _("the GPU ran out of memory (%(reason)s). Try a smaller size or fewer frames"),
    "comfyui.no_video_saved": _("The workflow on %(provider)s saved no video (mp4 or webm). End it with a node that "
                                "saves one, such as VHS_VideoCombine or SaveVideo."),
    "comfyui.refused_workflow": _("%(provider)s refused the workflow: %(detail)s"),
    "comfyui.extends_only": _("This workflow continues a take (it has a source video input): use it to extend a "
                              "finished take, or choose another model to render the scene."),
    "comfyui.needs_image": _("This workflow starts from a reference image: add one to the scene."),
    "comfyui.needs_end_frame": _("This workflow ends on an end frame: end the scene on an image or on the next "
                                 "scene's first frame."),
    "comfyui.no_end_frame_input": _("This workflow has no end frame input: map one (End frame image) on the "
                                    "connection, or choose another model."),
    "comfyui.no_shots_input": _("This workflow has no shot-list input: map one (Shot list) on the connection, or "
                                "choose another model."),
    "comfyui.no_source_input": _("This workflow has no source video input: map one (Source video) on the "
                                 "connection to extend takes with it."),
    "comfyui.no_last_frame": _("This workflow starts from an image: the take's last frame could not be read."),
    "comfyui.listing_hint": _("Look for it in ComfyUI's queue and history at %(base)s."),
    "previz.gone": _("The previz job no longer exists."),
    "previz.failed": _("Previz rendering failed: %(why)s"),
    "previz.video_gone": _("The previz video is gone (job %(job)s)."),
    "previz.thumbnail_gone": _("The previz thumbnail is gone (job %(job)s)."),
    "previz.extend_seconds": _("The previz extends a take by 1 to 20 seconds, not %(seconds)s."),
    "previz.listing_hint": _("Retry the take: the local previz is free."),
    "vertex.gone": _("Google no longer knows this job (Vertex AI keeps a prediction's operation for a limited "
                     "time)."),
    "vertex.refused_account": _(
        "Google Cloud refused %(provider)s on project %(project)s: the service account %(email)s needs the Vertex AI "
        "User role (roles/aiplatform.user) there, and the Vertex AI API must be enabled. Google said: %(said)s"),
    "vertex.model_region": _("The model “%(model)s” is retired or unknown at Vertex AI in %(region)s (Google does "
                             "not serve it there). Choose another Veo model, or check the connection's region."),
    "vertex.no_operation": _("%(provider)s accepted the request but sent no operation name. Check your Google Cloud "
                             "billing before retrying."),
    "vertex.token_refused": _("%(provider)s refused the token it had just minted."),
    "vertex.outside_bucket": _("%(provider)s wrote the video to %(uri)s, outside the connection's bucket %(own)s: "
                               "the studio only reads the connection's own bucket."),
    "vertex.bucket_unreadable": _("The service account cannot read %(uri)s: give it the Storage Object Viewer role "
                                  "on the bucket %(bucket)s."),
    "vertex.listing_hint": _("Vertex AI cannot list video jobs; check the Billing reports of your Google Cloud "
                             "project (service Vertex AI, SKU Veo) for a charge at that time."),
    "google.model_retired": _("The model “%(model)s” is retired or unknown at Google."),
    "veo.listing_hint": _("The Gemini API cannot list video jobs; check the usage and billing pages of your Google "
                          "AI Studio project for a video charge (Veo or Gemini Omni) at that time."),
    "omni.model_retired": _("The model “%(model)s” is retired or unknown at Google (the Gemini API's Interactions "
                            "API does not serve it)."),
    "omni.no_interaction_id": _("%(provider)s accepted the request but sent no interaction id. Check your Google AI "
                                "Studio usage before retrying."),
    "omni.gone": _("Google no longer knows this interaction: the Gemini API keeps a video's interaction only for "
                   "a while."),
    "omni.canceled": _("Google cancelled the interaction."),
    "omni.failed_unsaid": _("Google could not make the video and did not say why."),
    "omni.incomplete": _("Google stopped the video before it was finished (the interaction is incomplete). Retry "
                         "the take."),
    "omni.budget_exceeded": _("Google stopped the video: the interaction ran out of its budget. Retry the take."),
    "omni.requires_action": _("Google's model asked for a tool the studio does not give it; the video was not "
                              "made."),
    "omni.model_answered": _("Google made no video; its model answered: %(said)s"),
    "omni.no_video": _("Google finished the interaction but sent no video. Retry the take."),
    "omni.expired": _("Google no longer has this video (the interaction is gone)."),
    # Why an export of the approved cut failed (generation.exports.services), on the exports page.
    "export.nothing_approved": _("No scene has an approved take to export yet: approve at least one take first."),
    "export.worker_stopped": _("The worker stopped while exporting. Start a new export."),
    "export.clip_unreadable": _("A clip could not be read: %(why)s"),
    "export.unexpected": _("The export failed unexpectedly. Try again; if it fails again, the worker log has the "
                           "details."),
    "export.stopped": _("The export stopped: %(error)s."),
    # Why a clip stopped the export (generation.exports.media); FFmpeg's own reason stays in its words.
    "stitch.not_playable": _("%(file)s is not a playable video (%(reason)s)."),
    "stitch.no_video": _("%(file)s has no video."),
    "stitch.no_duration": _("A clip does not say how long it is."),
    "stitch.no_clips": _("There are no clips to stitch."),
    # Why the clips were re-encoded rather than joined as they are (generation.exports.media), on the exports page.
    "remux.size": _("clip %(number)s is %(size)s, the project is %(project)s"),
    "remux.codec": _("clip %(number)s is %(codec)s without its set-up in the file, not H.264/HEVC"),
    "remux.video_codec_differs": _("clip %(number)s's video codec differs from clip 1's"),
    "remux.frame_rate_differs": _("clip %(number)s's frame rate differs from clip 1's"),
    "remux.encoder_differs": _("clip %(number)s's encoder set-up differs from clip 1's"),
    "remux.audio_differs": _("clip %(number)s's audio differs from clip 1's"),
    "remux.audio_setup_differs": _("clip %(number)s's audio set-up differs from clip 1's"),
    "remux.overlap": _("clip %(number)s's timestamps overlap clip %(previous)s's"),
    # Why an editor's timeline could not be read (generation.exports.cut_import, and the codes of
    # timeline_reader.py, a program of its own). What OpenTimelineIO, expat or the JSON decoder said
    # (`reason`) stays in their own words: it names the fault exactly, and nobody translates those libraries.
    "timeline.unreadable": _("The timeline could not be read."),
    "timeline.limits": _("The timeline could not be read within the studio's limits (%(memory)s MB of memory, "
                         "%(seconds)s seconds): it is too large or too deeply nested. Export a shorter timeline, "
                         "or only its video track."),
    "timeline.worker_stopped": _("The timeline could not be read: the worker stopped. Upload it again."),
    "timeline.zip": _("This is a ZIP archive (an .otioz bundle or the studio's export ZIP): upload the "
                      "timeline file inside it (timeline.otio, timeline.edl or timeline.xml)."),
    "timeline.xml_unknown": _("This XML file is neither Final Cut Pro 7 XML (xmeml) nor FCPXML."),
    "timeline.binary": _("This is not a timeline: it is a binary file. The studio reads OpenTimelineIO (.otio), "
                         "CMX 3600 EDL, Final Cut Pro 7 XML and FCPXML."),
    "timeline.unknown": _("This is not a timeline the studio reads: OpenTimelineIO (.otio), CMX 3600 EDL, "
                          "Final Cut Pro 7 XML or FCPXML."),
    "timeline.xml_entities": _("The XML declares entities or refers to outside files: the studio never reads "
                               "those (a few lines of entities can expand without end). Export the timeline "
                               "again from the editing program."),
    "timeline.xml_malformed": _("Line %(line)s, column %(column)s: the XML is not well formed (%(reason)s). "
                                "The file may be cut short."),
    "timeline.edl_event": _("Line %(line)s: this event is not a whole CMX 3600 event (number, reel, track, "
                            "transition, source in and out, record in and out): “%(event)s”. The file may be "
                            "cut short."),
    "timeline.edl_out_before_in": _("Line %(line)s: an out point (%(out_point)s) comes before its in point "
                                    "(%(in_point)s)."),
    "timeline.otio_json": _("Line %(line)s, column %(column)s: the OpenTimelineIO file is not valid JSON "
                            "(%(reason)s). The file may be cut short."),
    "timeline.otio_schema": _("This OpenTimelineIO file holds a %(schema)s, not a timeline."),
    "timeline.otio_value": _("This OpenTimelineIO file holds a JSON value, not a timeline."),
    "timeline.edl_adapter": _("Line %(line)s: the EDL could not be read (%(reason)s)."),
    "timeline.adapter": _("The %(format)s file could not be read: %(reason)s."),
    "timeline.no_timeline": _("The %(format)s file holds no timeline (no sequence or project)."),
    "timeline.no_clips": _("The timeline has no video clips."),
    "timeline.too_many_clips": _("The timeline has more than %(limit)s clips on its track; the studio reads at "
                                 "most %(limit)s."),
    "timeline.too_many_markers": _("The timeline has %(count)s markers; the studio reads at most %(limit)s."),
    # A connection's test (generation.providers.connections.connection_test): its answer, as the worker
    # got it, said on the providers page in the language of whoever reads it.
    "connection.testing": _("Testing…"),
    "connection.ready": _("%(provider)s is ready."),
    "connection.connected": _("Connected to %(provider)s."),
    "fal.key_accepted": _("%(provider)s accepted the key."),
    "runway.connected_credits": _("Connected to %(provider)s: %(credits)s credits left."),
    "replicate.connected_as": _("Connected to %(provider)s as %(user)s."),
    "replicate.connected_unnamed": _("Connected to %(provider)s as an unnamed account."),
    "replicate.secret_fetched": _("Fetched the account's webhook signing secret."),
    "replicate.secret_kept": _("A webhook signing secret was saved meanwhile; it was kept."),
    "replicate.secret_unfetched": _("The webhook signing secret could not be fetched (%(why)s); paste it to use "
                                    "webhooks."),
    "openai.connected": _("Connected to %(provider)s: the key works and the Videos API answers."),
    "openai.no_videos_api": _("%(provider)s does not serve the Videos API at this address. Check the base URL."),
    "comfyui.connected": _("Connected to %(provider)s: ComfyUI %(version)s."),
    "comfyui.connected_on": _("Connected to %(provider)s: ComfyUI %(version)s on %(device)s."),
    "comfyui.unknown_version": _("unknown version"),
    "comfyui.not_comfyui": _("%(provider)s does not answer like a ComfyUI server at this address. Check the base "
                             "URL."),
    "veo.connected": _("Connected to %(provider)s: the Gemini API accepts the key."),
    "veo.no_gemini_api": _("%(provider)s does not serve the Gemini API at this address. Check the base URL (leave "
                           "it empty for %(default)s)."),
    "vertex.connected": _("Connected to %(provider)s: Google accepted the service account %(email)s on project "
                          "%(project)s in %(region)s."),
    "vertex.not_found": _("%(provider)s found no Vertex AI at this address for project %(project)s in %(region)s. "
                          "Check the project id and region (and leave the base URL empty)."),
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
    "feed.edited": _("edited %(scene)s: %(what)s"),
    "feed.field_added": _("added the field %(name)s"),
    "feed.field_renamed": _("renamed the field %(before)s to %(after)s"),
    "feed.field_deleted": _("deleted the field %(name)s"),
    "feed.field_set": ngettext_lazy("set %(field)s to %(value)s on %(count)s scene",
                                    "set %(field)s to %(value)s on %(count)s scenes", "count"),
    "feed.field_set_nothing": ngettext_lazy("cleared %(field)s on %(count)s scene",
                                            "cleared %(field)s on %(count)s scenes", "count"),
    "feed.retargeted": _("moved %(scene)s from %(before)s to %(after)s"),
    "feed.retargeted_detail": _("moved %(scene)s from %(before)s to %(after)s (%(detail)s)"),
    "feed.remixed_despite": _("remixed %(scene)s take %(number)s as take %(new)s despite failed checks. %(reason)s"),
    "feed.extended_despite": _("extended %(scene)s take %(number)s as take %(new)s despite failed checks. "
                               "%(reason)s"),
    "feed.reordered": _("reordered the scenes: %(order)s"),
    "feed.bulk_moved": ngettext_lazy("moved %(count)s scene (%(titles)s) to %(position)s",
                                     "moved %(count)s scenes (%(titles)s) to %(position)s", "count"),
    "feed.revision_restored": _("restored revision %(number)s"),
    # What made a revision of the board (projects.storyboard.revisions), on the Revisions page.
    "revision.before_first": _("The board before its first revision."),
    "revision.edits_since": _("Edits made since revision %(number)s."),
    "revision.field_set": _("%(field)s set on selected scenes"),
    "revision.retargeted": ngettext_lazy("moved %(count)s scene to %(model)s", "moved %(count)s scenes to %(model)s",
                                         "count"),
    "feed.revision_restored_named": _("restored revision %(number)s (%(name)s)"),
    # Reworded (same meaning, same parameters) to follow a name as the other lines do: older rows read it too.
    "feed.cut_accepted": ngettext_lazy("accepted %(count)s change from the editor's cut “%(name)s”",
                                       "accepted %(count)s changes from the editor's cut “%(name)s”", "count"),
    "feed.script_imported": _("imported a %(kind)s script: %(scenes)s"),
    "feed.script_imported_replacing": _("imported a %(kind)s script: %(scenes)s, replacing %(replaced)s (moved to "
                                        "the trash)"),
    "feed.with_cast": _("%(line)s; cast %(names)s"),
    "count.scenes": ngettext_lazy("%(count)s scene", "%(count)s scenes", "count"),
    # A scene's own fields, as the feed names what an edit changed.
    "field.title": _("title"),
    "field.prompt": _("prompt"),
    "field.duration": _("duration"),
    "field.size": _("size"),
    "field.camera_notes": _("camera notes"),
    "field.cast": _("cast"),
    "field.start_frame": _("start frame"),
    "field.end_frame": _("end frame"),
    # A list of words (each a Said or a name), joined as the reader's language joins them.
    "list.comma": _("%(first)s, %(rest)s"),
    "list.and": _("%(first)s and %(last)s"),
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


def recorded(words: str | Said | Sequence[Said]) -> tuple[str, list[dict[str, Any]]]:
    """What a row keeps of the words it is given: the English (logs, exports, rows read before the codes) and the
    codes each page words for its reader. Plain text is kept as it is, with no codes."""
    if isinstance(words, str):
        return words, []
    return english(words), stored(words)


def worded(entries: Sequence[Mapping[str, Any]] | None) -> str:
    """Stored sentences in the active language, one after the other."""
    return " ".join(str(Said.load(entry)) for entry in entries or () if isinstance(entry, Mapping))


def listed(items: Sequence[Param], *, last: str = "list.comma") -> Param:
    """Several words as one parameter ("prompt, cast"): a Said per join, so each is worded for the reader."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return Said(last, {"first": items[0], "last" if last == "list.and" else "rest": items[1]})
    return Said("list.comma", {"first": items[0], "rest": listed(items[1:], last=last)})

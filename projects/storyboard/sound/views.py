"""The sound's pages: the project's Sound page (settings, the bed, plain names' voices), in a scene's
side panel each line's voice and recording and the scene following its lines, and on a character's page
their voice and a sample of the real person's own voice (kept and heard only under a consent covering it).

The Sound page's forms post and come back to it (they work without JavaScript); the panel's answer
htmx with the dialogue section, as the dialogue's own forms do. Every lookup is scoped to the team.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from generation.storage.files import file_response
from projects import selectors
from projects.access import get_character_for, get_line_for, get_project_for, get_scene_for, require
from projects.characters import voice
from projects.characters.views import DETAIL, _detail_context
from projects.form_errors import error_text
from projects.models import Character, LineRecording, SoundBed, SpeechClip
from projects.storyboard.dialogue.views import _answer as dialogue_answer
from projects.storyboard.sound import bed as beds
from projects.storyboard.sound import recordings, services, voices
from projects.storyboard.sound.forms import (
    BedPlaceForm,
    CharacterVoiceForm,
    FitForm,
    ProjectSoundForm,
    SoundFileForm,
    SpeakerVoiceForm,
)

PAGE = "projects/project_sound.html"


@login_required
@require_http_methods(["GET", "POST"])
def project_sound(request, pk):
    project, membership = get_project_for(request.user, pk)
    form = ProjectSoundForm(instance=project)
    if request.method == "POST":
        require(membership, "edit")
        form = ProjectSoundForm(request.POST, instance=project)
        if form.is_valid():
            services.project_sound_set(project=project, **form.cleaned_data)
            messages.success(request, gettext("Sound settings saved."))
            return redirect("projects:project_sound", pk=project.pk)
    return _page(request, project, membership, settings_form=form, status=400 if form.is_bound else 200)


@login_required
@require_POST
def sound_bed_upload(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    form = SoundFileForm(request.POST, request.FILES)
    try:
        if form.is_valid():
            beds.sound_bed_upload(project=project, user=request.user, upload=form.cleaned_data["file"])
            messages.success(request, gettext("Sound bed uploaded: it is being prepared."))
            return redirect("projects:project_sound", pk=project.pk)
    except ValidationError as exc:
        form.add_error("file", error_text(exc))
    return _page(request, project, membership, bed_form=form, status=400)


@login_required
@require_POST
def sound_bed_place(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    form = BedPlaceForm(request.POST)
    try:
        if form.is_valid():
            beds.sound_bed_place(project=project, **form.cleaned_data)
            messages.success(request, gettext("Sound bed placed."))
            return redirect("projects:project_sound", pk=project.pk)
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
    return _page(request, project, membership, place_form=form, status=400)


@login_required
@require_POST
def sound_bed_remove(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    beds.sound_bed_remove(project=project)
    messages.success(request, gettext("Sound bed removed."))
    return redirect("projects:project_sound", pk=project.pk)


@login_required
def sound_bed_file(request, pk):
    project, _membership = get_project_for(request.user, pk)
    bed = SoundBed.objects.filter(project=project).first()
    if bed is None or not bed.audio:
        raise Http404("No prepared sound bed.")
    return file_response(request, bed.audio)


@login_required
@require_POST
def speaker_voice(request, pk):
    project, membership = get_project_for(request.user, pk)
    require(membership, "edit")
    form = SpeakerVoiceForm(request.POST)
    try:
        if form.is_valid():
            voices.speaker_voice_set(project=project, **form.cleaned_data)
            services.project_respeak(project=project)
            messages.success(request, gettext("%(name)s's voice saved.") % {"name": form.cleaned_data["name"]})
            return redirect("projects:project_sound", pk=project.pk)
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
    return _page(request, project, membership, voice_form=form, status=400)


def _page(request, project, membership, *, status=200, **forms):
    page = selectors.sound_page_for(project=project)
    bed = page.bed
    context = {"project": project, "membership": membership, "page": page, "current": "sound",
               "settings_form": forms.get("settings_form") or ProjectSoundForm(instance=project),
               "bed_form": forms.get("bed_form") or SoundFileForm(),
               "place_form": forms.get("place_form") or BedPlaceForm(initial={
                   "start_at": bed.start_at, "level_db": bed.level_db, "duck_db": bed.duck_db} if bed else None),
               "voice_form": forms.get("voice_form")}
    return render(request, PAGE, context, status=status)


# --- a scene's lines, in its side panel ----------------------------------------------------------


@login_required
def line_audio(request, scene_pk, pk):
    """What the line sounds like now: its recording when it may be heard, else the engine's speech."""
    scene, line, _membership = get_line_for(request.user, scene_pk, pk)
    if line is None:
        raise Http404("No such line.")
    recording = LineRecording.objects.filter(line=line).select_related("character").first()
    if recording is not None and recording.audio and not recordings.recording_withheld(recording,
                                                                                        project=scene.project):
        return file_response(request, recording.audio)
    clip = SpeechClip.objects.filter(key=voices.line_speech(line, project=scene.project).key).first()
    if clip is None:
        raise Http404("Not spoken yet.")
    return file_response(request, clip.audio)


@login_required
@require_POST
def line_recording(request, scene_pk, pk):
    scene, line, membership = get_line_for(request.user, scene_pk, pk)
    require(membership, "edit")
    if line is None:
        return dialogue_answer(request, scene, membership, status=409, dialogue_error=gettext(
            "A teammate deleted this line: the recording was not kept."))
    form = SoundFileForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise ValidationError(error_text(form))
        recordings.line_recording_upload(line=line, user=request.user, upload=form.cleaned_data["file"])
    except (ValidationError, PermissionDenied) as exc:
        words = error_text(exc) if isinstance(exc, ValidationError) else str(exc)
        return dialogue_answer(request, scene, membership, status=400, dialogue_error=words)
    return dialogue_answer(request, scene, membership, saved=gettext("Recording kept: it is being prepared."))


@login_required
@require_POST
def line_recording_remove(request, scene_pk, pk):
    scene, line, membership = get_line_for(request.user, scene_pk, pk)
    require(membership, "edit")
    if line is not None:
        recordings.line_recording_remove(line=line)
    return dialogue_answer(request, scene, membership, saved=gettext("Recording removed: the line is spoken again."))


@login_required
@require_POST
def scene_fit(request, pk):
    scene, membership = get_scene_for(request.user, pk)
    require(membership, "edit")
    form = FitForm(request.POST)
    form.is_valid()
    services.scene_fit_set(scene=scene, fit=form.cleaned_data.get("fit", False))
    return dialogue_answer(request, scene, membership, saved=gettext(
        "The scene follows its lines." if form.cleaned_data.get("fit") else "The scene keeps its own length."))


# --- a character's voice, on their page ------------------------------------------------------------


def _character(request, pk):
    return get_character_for(request.user, pk, queryset=selectors.characters_with_consent(Character.objects))


def _may_change(character, membership, user) -> None:
    """Editors choose a character's voice; the person themselves may handle their own sample."""
    if character.is_person and character.person_id == user.pk:
        return
    if membership is None:
        raise Http404("Not in this team.")
    require(membership, "edit")


@login_required
@require_POST
def character_voice(request, pk):
    character, membership = _character(request, pk)
    _may_change(character, membership, request.user)
    form = CharacterVoiceForm(request.POST)
    try:
        if form.is_valid():
            voice.character_voice_set(character=character, **form.cleaned_data)
            services.character_respeak(character=character)
            messages.success(request, gettext("Voice saved: their lines are spoken again in it."))
            return redirect("projects:character_detail", pk=character.pk)
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
    return render(request, DETAIL, _detail_context(character, membership, request.user, voice_form=form), status=400)


@login_required
@require_POST
def character_voice_sample(request, pk):
    character, membership = _character(request, pk)
    _may_change(character, membership, request.user)
    form = SoundFileForm(request.POST, request.FILES)
    try:
        if form.is_valid():
            voice.character_voice_sample_upload(character=character, user=request.user,
                                                upload=form.cleaned_data["file"])
            messages.success(request, gettext("Voice sample kept."))
            return redirect("projects:character_detail", pk=character.pk)
    except ValidationError as exc:
        form.add_error("file", error_text(exc))
    except PermissionDenied as exc:
        form.add_error("file", str(exc))
    return render(request, DETAIL, _detail_context(character, membership, request.user, sample_form=form),
                  status=400)


@login_required
@require_POST
def character_voice_sample_remove(request, pk):
    character, membership = _character(request, pk)
    _may_change(character, membership, request.user)
    voice.character_voice_sample_remove(character=character)
    messages.success(request, gettext("Voice sample deleted."))
    return redirect("projects:character_detail", pk=character.pk)


@login_required
def character_voice_sample_file(request, pk):
    character, _membership = _character(request, pk)
    if not character.voice_sample:
        raise Http404("No voice sample.")
    withheld = voice.voice_sample_withheld(character)
    if withheld and character.person_id != request.user.pk:  # the person may always hear their own voice
        raise PermissionDenied(withheld)
    return file_response(request, character.voice_sample)

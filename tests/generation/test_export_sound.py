"""The export carries the board's sound: the ZIP holds the stems (dialogue, bed) as WAV, the lines as SRT
and WebVTT captions with their speakers, and the OTIO timeline gains the audio tracks."""

import hashlib
import io
import json
import re
import uuid
import zipfile

import av
import c2pa
import numpy as np
import opentimelineio as otio
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from generation.exports import services as exports
from generation.models import Export as ExportModel
from generation.models import ExportStatus
from generation.provenance.credentials import studio_ca_from_settings
from generation.sound.audio import SAMPLE_RATE, read_wav, wav_bytes
from projects.characters import consent
from projects.models import CharacterKind, Role, SoundBed, SoundStatus
from projects.review.services import take_approve
from projects.storyboard.dialogue import services as dialogue
from projects.storyboard.sound import recordings
from tests.factories import photo
from tests.sound.helpers import band_energy, tone, upload, wav

BED_HZ = 60  # under any voice: the bed is told from speech by its band


@pytest.fixture
def spoken_cut(project, make_scene, finished_take, reviewer, owner, django_capture_on_commit_callbacks):
    """Dawn (2 s, a line), Night (2 s, no line), Storm (3 s, a line), each approved; a bed under it all."""
    scenes = [make_scene(title=t, duration=d) for t, d in (("Dawn", 2), ("Night", 2), ("Storm", 3))]
    for scene in scenes:
        take_approve(take=finished_take(scene), user=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_add(scene=scenes[0], user=owner, speaker=(None, "ANNA"), text="Is the boat ready?")
        dialogue.dialogue_line_add(scene=scenes[2], user=owner, speaker=(None, "BOB"), text="Nearly, give me a minute.")
    bed = SoundBed(project=project, kind="wav", status=SoundStatus.READY, level_db=-6, duck_db=-20, start_at=0)
    for field in (bed.original, bed.audio):
        field.save("bed.wav", ContentFile(wav_bytes(tone(30, freq=BED_HZ, amplitude=0.3))), save=False)
    bed.save()
    return scenes


def export_of(project, user, capture):
    with capture(execute=True):
        export, _ = exports.export_create(project=project, user=user, idempotency_key=uuid.uuid4())
    export.refresh_from_db()
    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    return export


def members(export) -> dict[str, bytes]:
    with zipfile.ZipFile(export.zip.path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def srt_cues(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp):
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    return [(seconds(a), seconds(b), words) for a, b, words in
            re.findall(r"(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)", text)]


def window(samples, start, end):
    return samples[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]


def rms(samples) -> float:
    return float(np.sqrt(np.mean(np.square(samples))))


def test_the_zip_carries_the_stems_and_the_captions_of_every_line_with_its_speaker(
        project, owner, spoken_cut, django_capture_on_commit_callbacks):
    files = members(export_of(project, owner, django_capture_on_commit_callbacks))
    assert {"sound/dialogue.wav", "sound/bed.wav", "captions.srt", "captions.vtt"} <= set(files)
    srt = srt_cues(files["captions.srt"].decode())
    assert [words for _a, _b, words in srt] == ["ANNA: Is the boat ready?", "BOB: Nearly, give me a minute."]
    vtt = files["captions.vtt"].decode()
    assert vtt.startswith("WEBVTT") and vtt.count(" --> ") == 2 and "BOB: Nearly, give me a minute." in vtt
    # Both stems last as long as the cut (2 + 2 + 3 s).
    for name in ("sound/dialogue.wav", "sound/bed.wav"):
        assert len(read_wav(io.BytesIO(files[name]))) == pytest.approx(7 * SAMPLE_RATE, abs=SAMPLE_RATE // 20)


def test_the_exported_dialogue_is_speech_where_the_srt_says_and_silence_elsewhere(
        project, owner, spoken_cut, django_capture_on_commit_callbacks):
    files = members(export_of(project, owner, django_capture_on_commit_callbacks))
    speech = read_wav(io.BytesIO(files["sound/dialogue.wav"]))
    (a_start, a_end, _), (b_start, b_end, _) = srt_cues(files["captions.srt"].decode())
    # Anna speaks in Dawn (from 0.5 s, the pause), Bob in Storm, which starts at 4 s of the cut.
    assert a_start == pytest.approx(0.5, abs=0.002) and b_start == pytest.approx(4.5, abs=0.002)
    for start, end in ((a_start, a_end), (b_start, b_end)):
        assert band_energy(window(speech, start + 0.05, end - 0.05)) > 1e-4
        # The SRT's times are the mix's: the speech starts and ends with the cue, not a frame later.
        assert rms(window(speech, start - 0.1, start - 0.005)) < 0.003
        assert rms(window(speech, end + 0.03, end + 0.1)) < 0.003
        assert rms(window(speech, start, start + 0.15)) > 0.003
    assert rms(window(speech, a_end + 0.05, b_start - 0.05)) < 0.003  # Night: no line
    # The bed runs under it all, ducked under the lines.
    bed = read_wav(io.BytesIO(files["sound/bed.wav"]))
    alone = band_energy(window(bed, 2.5, 3.5), low=BED_HZ - 5, high=BED_HZ + 5)
    under = band_energy(window(bed, a_start + 0.3, a_start + 1.3), low=BED_HZ - 5, high=BED_HZ + 5)
    assert alone > 0 and under < alone / 30


def test_the_otio_timeline_gains_the_dialogue_and_bed_tracks_with_the_lines_ranges(
        project, owner, spoken_cut, django_capture_on_commit_callbacks):
    files = members(export_of(project, owner, django_capture_on_commit_callbacks))
    timeline = otio.adapters.read_from_string(files["timeline.otio"].decode(), "otio_json")
    assert [t.name for t in timeline.audio_tracks()] == ["Dialogue", "Sound bed"]
    assert [c.name for c in timeline.video_tracks()[0].find_clips()] == ["Dawn", "Night", "Storm"]
    dialogue_track, bed_track = timeline.audio_tracks()
    lines = list(dialogue_track.find_clips())
    assert [c.name for c in lines] == ["ANNA: Is the boat ready?", "BOB: Nearly, give me a minute."]
    for clip, (start, end, _words) in zip(lines, srt_cues(files["captions.srt"].decode())):
        placed = dialogue_track.range_of_child(clip)
        assert placed.start_time.to_seconds() == pytest.approx(start, abs=1 / 24)
        assert placed.end_time_exclusive().to_seconds() == pytest.approx(end, abs=1 / 24)
        assert clip.media_reference.target_url == "sound/dialogue.wav"
        assert clip.source_range.start_time.to_seconds() == pytest.approx(start, abs=1 / 24)  # same time in the stem
    (bed,) = bed_track.find_clips()
    assert bed.media_reference.target_url == "sound/bed.wav"
    assert bed_track.range_of_child(bed).duration.to_seconds() == pytest.approx(7.0, abs=1 / 24)
    # The EDL stays one picture track with its reels (CMX 3600 has no place for a line's words).
    assert "S001T001" in files["timeline.edl"].decode()


def test_a_cut_without_lines_or_bed_carries_no_empty_stems(project, owner, make_scene, finished_take, reviewer,
                                                           django_capture_on_commit_callbacks):
    take_approve(take=finished_take(make_scene(title="Quiet")), user=reviewer)
    files = members(export_of(project, owner, django_capture_on_commit_callbacks))
    assert not {"sound/dialogue.wav", "sound/bed.wav", "captions.srt", "captions.vtt"} & set(files)
    timeline = otio.adapters.read_from_string(files["timeline.otio"].decode(), "otio_json")
    assert list(timeline.audio_tracks()) == []


# --- The cut MP4 carries the mix; its manifest names the voice and the bed ---------------------------


def mp4_sound(export) -> np.ndarray:
    with av.open(export.mp4.path) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        return np.concatenate([o.to_ndarray()[0] for f in container.decode(audio=0) for o in resampler.resample(f)])


def manifest_of(export) -> tuple[dict, dict]:
    ca = studio_ca_from_settings()
    assert ca is not None, "the tests run with a studio CA"
    with open(export.mp4.path, "rb") as source, c2pa.Context.from_dict({
            "trust": {"user_anchors": ca.decode()}}) as context, \
            c2pa.Reader.try_create("video/mp4", source, None, context) as reader:
        store = json.loads(reader.json())
    return store, store["manifests"][store["active_manifest"]]


def placed(manifest: dict, title: str) -> dict:
    """The parameters of the action that placed the ingredient called `title` in the cut."""
    (ingredient,) = [i for i in manifest["ingredients"] if i["title"] == title]
    actions = [a for assertion in manifest["assertions"] if assertion["label"].startswith("c2pa.actions")
               for a in assertion["data"]["actions"]]
    (action,) = [a for a in actions if a["action"] == "c2pa.placed" and any(
        ref["url"].endswith("/" + ingredient["label"]) for ref in a["parameters"].get("ingredients", []))]
    return action["parameters"]


def test_the_cut_mp4_carries_the_mix_speech_at_the_lines_the_bed_beneath(
        project, owner, spoken_cut, django_capture_on_commit_callbacks):
    project.take_audio_level_db = -60  # the takes' own pad tone far under: what is heard is the mix
    project.save(update_fields=["take_audio_level_db"])
    export = export_of(project, owner, django_capture_on_commit_callbacks)
    sound = mp4_sound(export)
    assert len(sound) == pytest.approx(7 * SAMPLE_RATE, abs=SAMPLE_RATE // 10)
    (a_start, a_end, _), (b_start, b_end, _) = srt_cues(members(export)["captions.srt"].decode())
    quiet = band_energy(window(sound, a_end + 0.2, b_start - 0.2))  # Night: the bed alone, below the band
    for start, end in ((a_start, a_end), (b_start, b_end)):
        assert band_energy(window(sound, start + 0.05, end - 0.05)) > 100 * max(quiet, 1e-9)
    assert band_energy(window(sound, 2.5, 3.5), low=BED_HZ - 5, high=BED_HZ + 5) > 1e-3  # the bed is there
    with av.open(export.mp4.path) as container:  # the picture is the takes', untouched
        assert sum(1 for _ in container.decode(video=0)) == 7 * 24


def test_the_cut_keeps_the_takes_own_sound_at_the_projects_level(project, owner, spoken_cut,
                                                                 django_capture_on_commit_callbacks):
    loud = mp4_sound(export_of(project, owner, django_capture_on_commit_callbacks))
    project.take_audio_level_db = -60
    project.save(update_fields=["take_audio_level_db"])
    soft = mp4_sound(export_of(project, owner, django_capture_on_commit_callbacks))
    # Night has no line: there only the takes' pad tone and the bed sound; the pad goes with the level.
    assert band_energy(window(loud, 2.2, 3.8), low=100, high=2000) > 100 * band_energy(
        window(soft, 2.2, 3.8), low=100, high=2000)


def test_the_manifest_lists_the_voice_and_the_bed_as_ingredients(project, owner, spoken_cut,
                                                                  django_capture_on_commit_callbacks):
    export = export_of(project, owner, django_capture_on_commit_callbacks)
    store, manifest = manifest_of(export)
    titles = [i["title"] for i in manifest["ingredients"]]
    assert "Voice-over (dialogue stem)" in titles and "Sound bed" in titles
    assert sum(1 for t in titles if t not in ("Voice-over (dialogue stem)", "Sound bed")) == 3  # the takes
    files = members(export)
    voice = placed(manifest, "Voice-over (dialogue stem)")
    assert voice["engine"].startswith("eSpeak NG") and voice["recorded"] == [] and len(voice["voices"]) == 2
    assert voice["stem"]["hash"] == hashlib.sha256(files["sound/dialogue.wav"]).hexdigest()
    bed = placed(manifest, "Sound bed")
    assert bed["stem"]["hash"] == hashlib.sha256(files["sound/bed.wav"]).hexdigest()
    assert store.get("validation_state") in ("Trusted", "Valid")


@pytest.fixture
def maya(team, make_member):
    person = make_member(team, Role.EDITOR, "maya")
    return consent.character_create(team=team, user=person, name="Maya", kind=CharacterKind.PERSON,
                                    person=person, images=[photo()])


RECORDED_HZ = 1000  # her "voice": a steady tone no engine voice holds


def test_a_recorded_voice_goes_out_with_its_grant_and_never_once_consent_is_revoked(
        project, owner, spoken_cut, maya, django_capture_on_commit_callbacks):
    grant = consent.consent_grant(character=maya, user=maya.person, covers_voice=True)
    storm = spoken_cut[2]
    with django_capture_on_commit_callbacks(execute=True):
        line = dialogue.dialogue_line_add(scene=storm, user=owner, speaker=(maya, "Maya"), text="Cast off!")
        recordings.line_recording_upload(line=line, user=owner,
                                         upload=upload(wav(tone(1.0, freq=RECORDED_HZ, amplitude=0.3))))

    def her_tone(export) -> float:
        files = members(export)
        (start, end, _), = [c for c in srt_cues(files["captions.srt"].decode()) if c[2].startswith("Maya")]
        speech = read_wav(io.BytesIO(files["sound/dialogue.wav"]))
        stretch = window(speech, start + 0.05, end - 0.05)
        return band_energy(stretch, low=RECORDED_HZ - 10, high=RECORDED_HZ + 10) / max(band_energy(stretch), 1e-12)

    with_consent = export_of(project, owner, django_capture_on_commit_callbacks)
    assert her_tone(with_consent) > 0.9  # her recording is the line
    (recorded,) = placed(manifest_of(with_consent)[1], "Voice-over (dialogue stem)")["recorded"]
    assert (recorded["character"], recorded["grant"]) == (maya.pk, grant.pk) and len(recorded["sha256"]) == 64

    consent.consent_revoke(character=maya, user=maya.person)
    without = export_of(project, owner, django_capture_on_commit_callbacks)
    assert her_tone(without) < 0.2  # the engine speaks her line: her voice is not in the export
    assert "Maya: Cast off!" in members(without)["captions.srt"].decode()
    assert placed(manifest_of(without)[1], "Voice-over (dialogue stem)")["recorded"] == []
    with zipfile.ZipFile(without.zip.path) as archive:
        assert not [n for n in archive.namelist() if "record" in n]


def frame_at(path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time >= seconds:
                return frame.to_ndarray(format="gray")
    raise AssertionError(f"no frame at {seconds} s")


def colour_of(path) -> tuple:
    with av.open(str(path)) as container:
        cc = container.streams.video[0].codec_context
        return cc.color_range, cc.colorspace, cc.color_primaries, cc.color_trc


def test_an_export_can_burn_the_captions_into_the_cut(project, owner, spoken_cut, django_capture_on_commit_callbacks):
    plain = export_of(project, owner, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        burned, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4(), burn_captions=True)
    burned.refresh_from_db()
    assert burned.status == ExportStatus.SUCCEEDED, burned.error_message
    (a_start, a_end, _), _bob = srt_cues(members(burned)["captions.srt"].decode())
    during, after = (a_start + a_end) / 2, 3.0  # Anna speaks; then Night, without a line
    low = (slice(int(720 * 0.8), 720), slice(int(1280 * 0.3), int(1280 * 0.7)))  # where the caption sits

    def changed(at) -> float:
        return float(np.mean(np.abs(frame_at(burned.mp4.path, at)[low].astype(int)
                                    - frame_at(plain.mp4.path, at)[low].astype(int))))

    words, none = changed(during), changed(after)
    assert words > 6 and words > 4 * none  # white words on a dark box where the picture was
    assert none < 3  # re-encoded, otherwise the same picture
    assert colour_of(burned.mp4.path) == colour_of(plain.mp4.path)  # and read with the same levels
    assert len(mp4_sound(burned)) == pytest.approx(7 * SAMPLE_RATE, abs=SAMPLE_RATE // 10)  # still the mix
    edited = [a for assertion in manifest_of(burned)[1]["assertions"] if assertion["label"].startswith("c2pa.actions")
              for a in assertion["data"]["actions"] if a["action"] == "c2pa.edited"]
    assert "captions burned into the picture" in edited[0]["description"]


def test_the_export_form_asks_for_burnt_in_captions_only_when_ticked(client_for, owner, project, make_scene,
                                                                     finished_take, reviewer):
    take_approve(take=finished_take(make_scene(title="Dawn")), user=reviewer)
    client = client_for(owner)
    url = reverse("generation:export_create", args=[project.pk])
    page = client.get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert 'name="burn_captions"' in page
    client.post(url, {"idempotency_key": str(uuid.uuid4()), "pdf_layout": "scenes", "burn_captions": "on"})
    ExportModel.objects.filter(project=project).update(status=ExportStatus.SUCCEEDED)  # let a second one start
    client.post(url, {"idempotency_key": str(uuid.uuid4()), "pdf_layout": "scenes"})
    assert list(ExportModel.objects.filter(project=project).order_by("pk").values_list("burn_captions", flat=True)) \
        == [True, False]

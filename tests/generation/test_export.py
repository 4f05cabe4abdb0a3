"""Exporting the approved cut: one signed MP4, a ZIP for editors, a PDF storyboard."""

import json
import uuid
import zipfile
from pathlib import Path

import av
import opentimelineio as otio
import pypdf
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from generation.exports import media as export_media
from generation.exports import services as exports
from generation.exports.package import APPROVALS_LABEL
from generation.models import Export, ExportStatus, Render
from generation.provenance.credentials import read_with_settings
from projects.review.services import take_approve


@pytest.fixture
def approved(make_scene, render_take, reviewer):
    """Make a scene, render a take of it and approve that take."""

    def make(title, *, duration=1, size="1280x720", prompt="A harbour at dawn, mist on the water."):
        scene = make_scene(title=title, duration=duration, size=size, prompt=prompt)
        take = render_take(scene)
        assert take.status == "succeeded", take.error_message
        take_approve(take=take, user=reviewer)
        scene.refresh_from_db()
        return scene

    return make


@pytest.fixture
def run_export(django_capture_on_commit_callbacks):
    def run(project, user, key=None) -> Export:
        with django_capture_on_commit_callbacks(execute=True):
            export, _ = exports.export_create(project=project, user=user, idempotency_key=key or uuid.uuid4())
        export.refresh_from_db()
        return export

    return run


def decode(path) -> tuple[int, float, float]:
    """(video frames decoded, video duration, audio seconds decoded) — a real end-to-end decode."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        assert video.duration is not None and video.time_base is not None
        duration = float(video.duration * video.time_base)
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        seconds = sum(frame.samples for frame in container.decode(audio)) / audio.sample_rate
    return frames, duration, seconds


def test_it_stitches_approved_takes_without_re_encoding_when_they_match(project, owner, approved,
                                                                         make_scene, run_export):
    approved("Dawn", duration=1)
    approved("Boats", duration=2)
    make_scene(title="Gulls", duration=1)  # never approved
    export = run_export(project, owner)

    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    assert export.progress == 100
    assert export.summary["method"] == "remux"
    frames, duration, audio_seconds = decode(export.mp4.path)
    assert frames == 3 * 24
    assert duration == pytest.approx(3.0, abs=1 / 24)
    assert audio_seconds == pytest.approx(3.0, abs=0.05)
    with av.open(export.mp4.path) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (1280, 720)
    assert [s["title"] for s in export.summary["included"]] == ["Dawn", "Boats"]
    assert export.summary["left_out"] == [{"scene": 3, "title": "Gulls", "reason": "No approved take."}]
    assert export.takes.count() == 2


def test_the_mp4_is_signed_with_every_take_as_an_ingredient_and_the_approvals(project, owner, reviewer,
                                                                             approved, run_export):
    dawn, boats = approved("Dawn"), approved("Boats")
    export = run_export(project, owner)

    report = read_with_settings(Path(export.mp4.path))
    assert report.state == "studio", report.codes
    assert report.actions == ["c2pa.created", "c2pa.placed", "c2pa.placed", "c2pa.edited"]
    active = report.manifest["manifests"][report.manifest["active_manifest"]]
    ingredients = active["ingredients"]
    assert [i["title"] for i in ingredients] == ["Scene 1: Dawn (take 1)", "Scene 2: Boats (take 1)"]
    # Each previz take was signed when it was made: its manifest travels with it.
    assert all(i["relationship"] == "componentOf" and i.get("active_manifest") for i in ingredients)
    approvals = next(a["data"] for a in active["assertions"] if a["label"] == APPROVALS_LABEL)
    assert approvals["approvals"] == [
        {"scene": 1, "title": "Dawn", "take": 1, "approved_by": reviewer.username,
         "approved_at": dawn.approved_at.isoformat()},
        {"scene": 2, "title": "Boats", "take": 1, "approved_by": reviewer.username,
         "approved_at": boats.approved_at.isoformat()},
    ]


@pytest.fixture
def approved_with_worker(make_scene, render_take, reviewer, django_capture_on_commit_callbacks):
    """A take of a new scene, approved with the tasks the approval queues run (as a worker would)."""

    def make(title, *, before_approval=None):
        take = render_take(make_scene(title=title, duration=1))
        if before_approval:
            before_approval(take)
        with django_capture_on_commit_callbacks(execute=True):
            take_approve(take=take, user=reviewer)
        take.refresh_from_db()
        return take

    return make


def test_approving_a_take_prepares_it_as_an_ingredient_for_every_later_export(
        project, owner, approved_with_worker, run_export):
    take = approved_with_worker("Dawn")
    assert take.c2pa_ingredient, "the approval's task writes the take's ingredient"
    prepared = Path(take.c2pa_ingredient.path).read_bytes()

    export = run_export(project, owner)
    report = read_with_settings(Path(export.mp4.path))
    assert report.state == "studio", report.codes
    (ingredient,) = report.manifest["manifests"][report.manifest["active_manifest"]]["ingredients"]
    assert ingredient["title"] == "Scene 1: Dawn (take 1)"
    # The take's own manifest and its verdict, as read when it was approved.
    assert ingredient["active_manifest"] in report.manifest["manifests"]
    assert ingredient["validation_results"]["activeManifest"]["success"]
    # Intact; its signer is the studio's own CA, which is no trust anchor: "untrusted" only.
    failures = {f["code"] for f in ingredient["validation_results"]["activeManifest"]["failure"]}
    assert failures <= {"signingCredential.untrusted"}
    take.refresh_from_db()
    assert Path(take.c2pa_ingredient.path).read_bytes() == prepared, "the export reused it"


def test_a_scene_renamed_after_approval_is_named_as_it_is_now_in_the_cut(
        project, owner, approved_with_worker, run_export):
    take = approved_with_worker("Dawn")
    type(take.scene).objects.filter(pk=take.scene_id).update(title="First light")

    export = run_export(project, owner)
    report = read_with_settings(Path(export.mp4.path))
    active = report.manifest["manifests"][report.manifest["active_manifest"]]
    assert [i["title"] for i in active["ingredients"]] == ["Scene 1: First light (take 1)"]


def test_an_approved_take_whose_file_is_gone_is_not_prepared_and_the_approval_stands(approved_with_worker):
    take = approved_with_worker("Dawn", before_approval=lambda t: Path(t.video.path).unlink())
    take.scene.refresh_from_db()
    assert take.scene.approved_take_id == take.pk
    assert not take.c2pa_ingredient


def test_it_re_encodes_to_the_project_size_when_a_take_has_another_size(project, owner, approved, run_export):
    approved("Wide", duration=1)
    approved("Tall", duration=1, size="720x1280")
    export = run_export(project, owner)

    assert export.status == ExportStatus.SUCCEEDED, export.error_message
    assert export.summary["method"] == "reencode"
    assert "720×1280" in export.summary["reencode_reason"]
    frames, duration, audio_seconds = decode(export.mp4.path)
    assert (frames, duration) == (48, pytest.approx(2.0, abs=1 / 24))
    assert audio_seconds == pytest.approx(2.0, abs=0.03)
    with av.open(export.mp4.path) as container:
        assert (container.streams.video[0].width, container.streams.video[0].height) == (1280, 720)
    report = read_with_settings(Path(export.mp4.path))
    assert report.state == "studio"


def test_the_zip_holds_the_clips_an_otio_timeline_and_provenance(project, owner, reviewer, approved, run_export):
    approved("Dawn", duration=1)
    approved("Boats", duration=2)
    export = run_export(project, owner)

    with zipfile.ZipFile(export.zip.path) as archive:
        names = set(archive.namelist())
        assert {"clips/01-dawn.mp4", "clips/02-boats.mp4", "timeline.otio",
                "provenance/01-dawn.json", "provenance/02-boats.json"} <= names
        assert archive.getinfo("clips/01-dawn.mp4").compress_type == zipfile.ZIP_STORED
        timeline = otio.adapters.read_from_string(archive.read("timeline.otio").decode(), "otio_json")
        record = json.loads(archive.read("provenance/02-boats.json"))
        boats_clip = archive.read("clips/02-boats.mp4")

    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == ["Dawn", "Boats"]
    assert [c.duration().to_seconds() for c in clips] == [pytest.approx(1.0), pytest.approx(2.0)]
    assert [c.media_reference.target_url for c in clips] == ["clips/01-dawn.mp4", "clips/02-boats.mp4"]
    assert timeline.duration().to_seconds() == pytest.approx(3.0)

    take = Render.objects.get(scene__title="Boats")
    assert boats_clip == Path(take.video.path).read_bytes()  # the take itself, its own manifest intact
    assert record["provider"] == "local" and record["model"] == "previz-animatic-1"
    assert record["cost_usd"] == str(take.cost)
    assert record["recipe"] == take.recipe
    assert record["c2pa"]["state"] == "studio"
    assert record["c2pa"]["verdict"].startswith("Signed by this studio")
    assert record["approved_by"] == reviewer.username
    assert record["take"] == {"id": take.pk, "number": 1}
    import hashlib

    assert record["sha256"] == hashlib.sha256(boats_clip).hexdigest()


def test_the_pdf_shows_every_scene_with_its_approval_state(project, owner, reviewer, approved, make_scene,
                                                            run_export):
    approved("Dawn")
    make_scene(title="Gulls", prompt="Gulls wheel over the masts.")
    approved("Quay — l’arrivée", prompt="Zoë walks along the quay.")  # needs a Unicode font
    for n in range(2):
        make_scene(title=f"Extra {n}")
    export = run_export(project, owner)

    pdf = pypdf.PdfReader(export.pdf.path)
    assert len(pdf.pages) == 2  # three scenes a page
    text = "\n".join(page.extract_text() for page in pdf.pages)
    for expected in ("1. Dawn", "2. Gulls", "3. Quay — l’arrivée", "Zoë walks along the quay.",
                     f"Approved: take 1 by {reviewer.username}", "Not in the cut: No approved take.",
                     "Gulls wheel over the masts."):
        assert expected in text
    # Thumbnails of Dawn and the quay; Gulls and the extras have no approved take to show.
    assert [len(page.images) for page in pdf.pages] == [2, 0]


def test_the_pdf_prints_each_scenes_lines_as_dialogue_and_a_takes_as_they_were_sent(
        project, owner, editor, reviewer, make_scene, render_take, run_export):
    from projects.storyboard.dialogue import services as dialogue

    def say(scene, text, speaker="ANNA", parenthetical=""):
        dialogue.dialogue_line_add(scene=scene, user=editor, speaker=(None, speaker), text=text,
                                   parenthetical=parenthetical)

    quay = make_scene(title="Quay", duration=1, prompt="The boat leaves.")
    say(quay, "We sail at noon.", speaker="BEN")
    take_approve(take=render_take(quay), user=reviewer)
    say(quay, "Said after the take was made.", speaker="BEN")  # the scene moved on; its take did not
    dawn = make_scene(title="Dawn", duration=1, prompt="Anna pours coffee.")  # no take: the scene's own lines
    say(dawn, "Morning.", parenthetical="sleepy")

    export = run_export(project, owner)

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(export.pdf.path).pages)
    assert "The boat leaves." in text and "BEN We sail at noon." in text
    assert "Said after the take was made." not in text
    assert "Anna pours coffee." in text and "ANNA (sleepy) Morning." in text
    assert "BEN: We sail at noon." not in text  # printed as dialogue, not as a row of the prompt


def test_a_withheld_approved_take_never_leaves_the_studio(project, owner, approved, run_export):
    approved("Dawn")
    withheld = approved("Sam on the pier")
    Render.objects.filter(pk=withheld.approved_take_id).update(
        quarantined_at=timezone.now(), quarantine_reason="Sam revoked consent")
    export = run_export(project, owner)

    assert export.status == ExportStatus.SUCCEEDED
    assert [s["title"] for s in export.summary["included"]] == ["Dawn"]
    assert export.summary["left_out"][0]["reason"] == "Approved take 1 is withheld: Sam revoked consent."
    with zipfile.ZipFile(export.zip.path) as archive:
        assert not any("sam" in name for name in archive.namelist())
    frames, _, _ = decode(export.mp4.path)
    assert frames == 24
    assert len(pypdf.PdfReader(export.pdf.path).pages[0].images) == 1  # no picture of Sam either


def test_consent_revoked_between_click_and_run_still_counts(project, owner, approved,
                                                            django_capture_on_commit_callbacks):
    scene = approved("Sam on the pier")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        export, _ = exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    Render.objects.filter(pk=scene.approved_take_id).update(quarantined_at=timezone.now())
    for callback in callbacks:
        callback()
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert export.error_message == exports.NOTHING_TO_EXPORT
    assert not export.mp4


def test_it_refuses_when_no_scene_is_approved(project, owner, scene):
    with pytest.raises(ValidationError) as refused:
        exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    assert refused.value.messages == [exports.NOTHING_TO_EXPORT]
    assert not Export.objects.exists()


def test_one_click_makes_one_export_and_a_second_waits_for_the_first(project, owner, editor, approved,
                                                                     django_capture_on_commit_callbacks):
    approved("Dawn")
    key = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=False):
        first, created = exports.export_create(project=project, user=owner, idempotency_key=key)
        again, created_again = exports.export_create(project=project, user=owner, idempotency_key=key)
        assert (created, created_again, again.pk) == (True, False, first.pk)
        with pytest.raises(ValidationError, match="already running"):
            exports.export_create(project=project, user=editor, idempotency_key=uuid.uuid4())
    assert Export.objects.count() == 1


def test_a_redelivered_task_does_not_build_twice(project, owner, approved, run_export):
    approved("Dawn")
    export = run_export(project, owner)
    mp4 = export.mp4.name
    exports.export_run(export.pk)
    export.refresh_from_db()
    assert (export.status, export.mp4.name) == (ExportStatus.SUCCEEDED, mp4)


def test_an_unreadable_take_fails_the_export_plainly(project, owner, approved, run_export):
    scene = approved("Dawn")
    Path(scene.approved_take.video.path).write_bytes(b"not a video")
    export = run_export(project, owner)
    assert export.status == ExportStatus.FAILED
    assert export.error_message.startswith("A clip could not be read")
    assert not export.mp4


def test_a_stale_running_export_no_longer_blocks_a_new_one(project, owner, approved,
                                                          django_capture_on_commit_callbacks):
    approved("Dawn")
    stuck = Export.objects.create(project=project, created_by=owner, status=ExportStatus.RUNNING)
    Export.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - exports.STALE_AFTER * 2)
    with django_capture_on_commit_callbacks(execute=False):
        exports.export_create(project=project, user=owner, idempotency_key=uuid.uuid4())
    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.FAILED
    assert "worker stopped" in stuck.error_message


def test_clips_without_sound_are_padded_with_silence(tmp_path):
    """A silent clip among sounding ones: re-encoded, and the sound track still lines up."""
    from generation.previz.animatic import render_animatic

    loud = tmp_path / "loud.mp4"
    render_animatic(out_path=loud, width=320, height=180, seconds=1, title="A", prompt="p", scene_number=1)
    silent = tmp_path / "silent.mp4"
    with av.open(str(loud)) as src, av.open(str(silent), "w", format="mp4") as out:
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    result = export_media.stitch([loud, silent, loud], tmp_path / "out.mp4", width=320, height=180)
    assert result.method == "reencode" and "audio" in result.reason
    frames, duration, audio_seconds = decode(tmp_path / "out.mp4")
    assert (frames, duration) == (72, pytest.approx(3.0, abs=1 / 24))
    assert audio_seconds == pytest.approx(3.0, abs=0.03)


def test_a_provider_clip_whose_file_starts_with_picture_is_re_encoded_to_the_project_size(tmp_path):
    """The provider's test file (720×1280, 30 fps) interleaves its first packets video first,
    unlike the previz: the encoder must be set up before the first frame is sent, not by a first mux."""
    from tests.generation.test_provenance import OUTSIDE_FIXTURE

    with av.open(str(OUTSIDE_FIXTURE)) as container:
        assert next(container.demux()).stream.type == "video"
    result = export_media.stitch([OUTSIDE_FIXTURE], tmp_path / "out.mp4", width=1280, height=720)
    assert result.method == "reencode" and "720×1280" in result.reason
    with translation.override("fr"):  # why, as the exports page says it to a French reader
        assert str(result.why) == "le plan 1 est en 720×1280, le projet en 1280×720"
    frames, duration, audio_seconds = decode(tmp_path / "out.mp4")
    assert (frames, duration) == (60, pytest.approx(2.0, abs=1 / 30))
    assert audio_seconds == pytest.approx(2.0, abs=0.05)


def test_the_storyboard_pdf_is_still_made_without_a_unicode_font(tmp_path, monkeypatch):
    """A machine without Debian's DejaVu fonts prints '?' for what Latin-1 lacks, and the export goes on."""
    from pypdf import PdfReader

    from generation.exports import pdf as export_pdf

    monkeypatch.setattr(export_pdf, "UNICODE_FONTS", {"": tmp_path / "missing.ttf", "B": tmp_path / "missing-b.ttf"})
    out = tmp_path / "board.pdf"
    panel = export_pdf.BoardPanel(number=1, title="Hafen — 港", prompt="Nebel über dem Wasser", duration=4.0,
                                  approval="Not approved", approved=False)
    export_pdf.write_storyboard([panel], out, title="Harbour", subtitle="1 scene")
    text = PdfReader(out).pages[0].extract_text()
    assert "Hafen ? ?" in text and "Nebel über dem Wasser" in text


def _embedded_fonts(reader) -> dict[str, int]:
    """Every font the PDF embeds, by name without the subset prefix: the size of its font file."""
    fonts = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            described = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = described.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                name = str(font["/BaseFont"]).split("+")[-1]
                fonts[name] = len(descriptor.get_object()["/FontFile2"].get_object().get_data())
    return fonts


def test_chinese_and_japanese_print_in_the_storyboard_pdf_with_the_bundled_fallback_font(tmp_path):
    """DejaVu has no hanzi or kana: those characters print in Droid Sans Fallback, embedded as the few glyphs used."""
    from generation.exports import pdf as export_pdf

    prompt = "港に霧がかかり、漁船がゆっくりと出航する。カモメが鳴き、遠くで鐘が鳴る。" * 2  # no spaces to wrap at
    panels = [export_pdf.BoardPanel(number=1, title="写真", prompt=prompt, duration=4.0,
                                    approval="Not approved", approved=False),
              export_pdf.BoardPanel(number=2, title="Hafen — dawn", prompt="Nebel über dem Wasser", duration=2.0,
                                    approval="Not approved", approved=False)]
    out = tmp_path / "board.pdf"
    export_pdf.write_storyboard(panels, out, title="Harbour 港", subtitle="2 scenes")

    reader = pypdf.PdfReader(out)
    text = reader.pages[0].extract_text()
    assert "1. 写真" in text and "Harbour 港" in text and "Hafen — dawn" in text
    assert prompt in text.replace("\n", "")  # wrapped over lines, not cut
    fonts = _embedded_fonts(reader)
    assert set(fonts) == {"DejaVuSansBook", "DejaVuSansBold", "DroidSansFallback"}
    assert fonts["DroidSansFallback"] < 100_000  # a subset of the 4 MB font: the glyphs used, not the whole font


def test_korean_prints_in_the_storyboard_pdf_with_the_bundled_hangul_font(tmp_path):
    """DejaVu and Droid Sans Fallback have no Hangul: it prints in NanumSquare, embedded as the few glyphs
    used (and an emoji in Noto Sans Symbols 2), and Droid Sans Fallback, which draws none of it, is not embedded."""
    from generation.exports import pdf as export_pdf

    prompt = "새벽 안개 속에서 어선이 천천히 출항하고 갈매기가 운다 🎬 " * 3
    panel = export_pdf.BoardPanel(number=1, title="부산항의 새벽", prompt=prompt, duration=4.0,
                                  approval="Not approved", approved=False)
    out = tmp_path / "board.pdf"
    export_pdf.write_storyboard([panel], out, title="항구 Harbour", subtitle="1 scene")

    reader = pypdf.PdfReader(out)
    text = reader.pages[0].extract_text()
    assert "1. 부산항의 새벽" in text and "항구 Harbour" in text
    assert " ".join(text.split()).endswith(" ".join(prompt.split()))  # wrapped over lines, not cut
    fonts = _embedded_fonts(reader)
    assert set(fonts) == {"DejaVuSansBook", "DejaVuSansBold", "NanumSquare", "NotoSansSymbols2"}
    assert fonts["NanumSquare"] < 100_000  # a subset of the font: the glyphs used, not the whole font


def test_a_storyboard_without_chinese_or_japanese_does_not_embed_the_fallback_font(tmp_path):
    from generation.exports import pdf as export_pdf

    out = tmp_path / "board.pdf"
    panel = export_pdf.BoardPanel(number=1, title="Hafen — Ωμέγα", prompt="Жук on the pier", duration=4.0,
                                  approval="Not approved", approved=False)
    export_pdf.write_storyboard([panel], out, title="Harbour", subtitle="1 scene")
    reader = pypdf.PdfReader(out)
    assert "Hafen — Ωμέγα" in reader.pages[0].extract_text()
    assert "DroidSansFallback" not in _embedded_fonts(reader)


@pytest.mark.parametrize("unicode_font", [False, True])
def test_storyboard_text_is_measured_as_fpdf_would_measure_it(unicode_font):
    """The PDF wraps prompts with its own fast measure; lines must fit exactly as fpdf2 sees them."""

    from generation.exports import pdf as export_pdf

    if unicode_font and not all(p.exists() for p in export_pdf.UNICODE_FONTS.values()):
        pytest.skip("no DejaVu font on this machine")
    pdf = export_pdf._FPDF()
    family = export_pdf._font_family(pdf, ["港 안녕" if unicode_font else "harbour"])
    for style, size in (("", 9), ("B", 12)):
        pdf.set_font(family, style, size)
        for text in ("A harbour at dawn, mist on the water.", "Wide shot: gulls über 45°", "iiiiWWWW",
                     *(["Hafen — 港", "写真を撮る", "부산항의 새벽 港 가"] if unicode_font else [])):
            assert export_pdf.text_width(pdf, text) == pytest.approx(pdf.get_string_width(text))
    pdf.set_font(family, "", 9)
    prompt = "A harbour at dawn, mist on the water, gulls wheel over the masts and a bell rings. " * 4
    lines = export_pdf._wrap(pdf, prompt, 90, 40)
    assert " ".join(lines).split() == prompt.split()
    assert all(pdf.get_string_width(line) <= 90 for line in lines)


def test_progress_is_written_only_as_often_as_the_page_could_show_it(project, owner):
    """The exports page looks once a second: progress is an UPDATE at most twice a second, 5 points apart."""
    export = Export.objects.create(project=project, created_by=owner, status=ExportStatus.RUNNING, progress=1)
    clock = iter([100.0, 100.1, 100.2, 100.7, 100.8, 101.5, 102.1])
    progress = exports._Progress(export, clock=lambda: next(clock))  # reads the clock: 100.0
    seen = []
    for percent in (30, 40, 50, 52, 60, 70):  # at 100.1, 100.2, 100.7, 100.8, 101.5, 102.1
        progress(percent)
        export.refresh_from_db()
        seen.append(export.progress)
    assert seen == [1, 1, 50, 50, 60, 70]


def test_an_ingredient_finished_after_the_take_was_withheld_is_not_kept(scene, render_take):
    """An export or approval task still writing a take's ingredient when consent is revoked leaves nothing."""
    from generation.provenance import ingredients

    take = render_take(scene)
    folder = Path(take.video.path).parent
    Render.objects.filter(pk=take.pk).update(quarantined_at=timezone.now(), quarantine_reason="Consent revoked")
    ingredients.store(take, b"the take's manifest and prompt", title="Scene 1", trust_anchors_pem=None)
    take.refresh_from_db()
    assert not take.c2pa_ingredient
    assert not list(folder.glob("ingredient*"))


def _red_stroke(content: str) -> bool:
    """#e53935, the palette's red, set as the PDF stroke colour."""
    import re

    return re.search(r"0\.898\d* 0\.22\d+ 0\.20\d+ RG", content) is not None


def _moves(content: str) -> list[tuple[float, float]]:
    import re

    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+) (-?[\d.]+) m", content)]


def test_a_reviewers_drawing_is_drawn_over_its_frame_in_the_pdf(tmp_path):
    """Vector shapes at the frame's coordinates: the arrow starts where it was drawn (20 %, 30 %)."""
    from PIL import Image

    from generation.exports import pdf as export_pdf

    frame = tmp_path / "frame.jpg"
    Image.new("RGB", (320, 180), "navy").save(frame)
    drawing = export_pdf.FrameDrawing(frame=frame, caption="00:02.0 rita: Move the boat", shapes=(
        {"kind": "arrow", "color": "#e53935", "points": [[0.2, 0.3], [0.6, 0.5]]},
        {"kind": "ellipse", "color": "#fdd835", "points": [[0.1, 0.1], [0.3, 0.3]]},
        {"kind": "pen", "color": "#1e88e5", "points": [[0.5, 0.5, 0.2], [0.55, 0.52, 0.9]]},
        {"kind": "text", "color": "#ffffff", "points": [[0.7, 0.1]], "text": "Boat here"},
    ))
    panel = export_pdf.BoardPanel(number=1, title="Dawn", prompt="A harbour", duration=2.0, approval="Approved",
                                  approved=True, thumbnail=frame, drawings=(drawing,))
    out = tmp_path / "board.pdf"
    export_pdf.write_storyboard([panel], out, title="Harbour", subtitle="1 scene")

    pdf = pypdf.PdfReader(out)
    assert len(pdf.pages) == 2  # the board, then the drawings page
    page = pdf.pages[1]
    text = page.extract_text()
    assert "Harbour: review drawings" in text and "00:02.0 rita: Move the boat" in text and "Boat here" in text
    assert len(page.images) == 1
    content = page.get_contents().get_data().decode("latin-1")
    assert _red_stroke(content)
    # The frame sits at (14, 42) mm, 182 mm wide (16:9): 20 % / 30 % of it, in PDF points from the bottom.
    k = 72 / 25.4
    w, h = 182, 182 * 9 / 16
    expected = ((14 + 0.2 * w) * k, (297 - (42 + 0.3 * h)) * k)
    assert any(abs(x - expected[0]) < 0.5 and abs(y - expected[1]) < 0.5 for x, y in _moves(content)), content[:2000]


def test_the_exported_pdf_shows_drawings_on_the_approved_take(project, owner, reviewer, approved, run_export):
    from projects.review.services import comment_add

    scene = approved("Dawn", duration=2)
    comment_add(take=scene.approved_take, author=reviewer, body="Boat enters here", at=1.0,
                drawing=[{"kind": "arrow", "color": "#e53935", "points": [[0.2, 0.3], [0.6, 0.5]]}])
    comment_add(take=scene.approved_take, author=reviewer, body="No drawing", at=0.5)
    export = run_export(project, owner)
    assert export.status == "succeeded", export.error_message

    pdf = pypdf.PdfReader(export.pdf.path)
    assert len(pdf.pages) == 2
    text = pdf.pages[1].extract_text()
    assert "Boat enters here" in text and "No drawing" not in text
    assert len(pdf.pages[1].images) == 1  # the frame at 00:01.0
    assert _red_stroke(pdf.pages[1].get_contents().get_data().decode("latin-1"))

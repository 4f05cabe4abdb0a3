"""Play all plays the whole board: approved takes, else the newest take (marked), else a card; with the
voice-over and bed mixed by a worker (swapped in over the live channel) and captions from the lines."""

import re

import av
import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from generation.sound.audio import SAMPLE_RATE
from projects.live.fragments import ChangeDrawing, _Read, render_change
from projects.live.review_fragments import GUEST
from projects.models import ChangeEvent, ChangeKind, PlayAllMix, SoundStatus
from projects.review import guest_links, playall
from projects.review import services as review
from projects.storyboard.dialogue import services as dialogue
from projects.storyboard.sound import mix
from tests.sound.helpers import band_energy


def cut_url(project):
    return reverse("projects:project_cut", args=[project.pk])


def captions_url(project):
    return reverse("projects:project_cut_captions", args=[project.pk])


@pytest.fixture
def board(make_scene, finished_take, reviewer, owner, django_capture_on_commit_callbacks):
    """Dawn (approved take 1), Night (takes 1 and 2, none approved), Storm (nothing filmed, two lines)."""
    dawn, night, storm = make_scene(title="Dawn", duration=2), make_scene(title="Night", duration=2), \
        make_scene(title="Storm", duration=3)
    approved = finished_take(dawn)
    review.take_approve(take=approved, user=reviewer)
    finished_take(night)
    newest = finished_take(night)
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_add(scene=storm, user=owner, speaker=(None, "ANNA"), text="Is the boat ready?")
        dialogue.dialogue_line_add(scene=storm, user=owner, speaker=(None, "BOB"), text="Nearly.")
    return {"dawn": dawn, "night": night, "storm": storm, "approved": approved, "newest": newest}


def test_it_plays_every_scene_in_order_the_approved_take_else_the_newest_else_a_card(client_for, viewer, board):
    page = client_for(viewer).get(cut_url(board["dawn"].project)).content.decode()
    timeline = page.split('data-testid="cut-scenes"')[1]
    assert re.findall(r'data-kind="(\w+)"', timeline) == ["approved", "newest", "card"]
    assert timeline.index("1. Dawn") < timeline.index("2. Night") < timeline.index("3. Storm")
    assert reverse("generation:render_file", args=[board["approved"].pk, "video"]) in timeline
    assert reverse("generation:render_file", args=[board["newest"].pk, "video"]) in timeline  # take 2, not 1
    older = board["night"].renders.exclude(pk=board["newest"].pk).get()
    assert reverse("generation:render_file", args=[older.pk, "video"]) not in page
    # Marked: the newest take is not approved, the card is nothing filmed yet.
    night_item = timeline[timeline.index("2. Night"):timeline.index("3. Storm")]
    assert 'data-testid="cut-not-approved">Not approved<' in night_item
    assert timeline.count('data-testid="cut-not-approved"') == 1
    assert 'data-testid="cut-card-mark"' in timeline[timeline.index("3. Storm"):]
    # The card shows the scene's title and lines; and the sequence runs 2 + 2 + 3 seconds.
    card = page[page.index('data-testid="cut-card"'):]
    card = card[:card.index("</div>")]
    assert "3. Storm" in card and "ANNA" in card and "Is the boat ready?" in card
    assert re.findall(r'data-start="([\d.]+)"', timeline) == ["0.000", "2.000", "4.000"]
    assert "Night" in page.split('data-testid="cut-missing"')[1]


def test_a_board_of_cards_only_still_plays(client_for, viewer, make_scene):
    scene = make_scene(title="Pier")
    page = client_for(viewer).get(cut_url(scene.project)).content.decode()
    assert 'data-kind="card"' in page and 'data-testid="cut-empty"' not in page
    assert '<span data-testid="cut-total">00:00:02:00</span>' in page


def test_the_captions_are_every_line_with_its_speaker_where_it_is_spoken_in_the_sequence(
        client_for, viewer, board):
    response = client_for(viewer).get(captions_url(board["dawn"].project))
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    vtt = response.content.decode()
    assert vtt.startswith("WEBVTT\n")
    times = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+)", vtt)
    assert [text for _a, _b, text in times] == ["ANNA: Is the boat ready?", "BOB: Nearly."]
    # Storm starts at 4 s of the sequence; its first line after the project's 0.5 s pause.
    assert times[0][0] == "00:00:04.500"
    # The rest as the previz lays the scene's lines out (its own spoken lengths), 4 s later.
    first, second = mix.scene_cues(board["storm"])
    assert times[0][1] == playall._vtt_time(4 + first.end)
    assert (times[1][0], times[1][1]) == (playall._vtt_time(4 + second.start), playall._vtt_time(4 + second.end))


def test_a_line_cannot_break_out_of_its_caption(client_for, viewer, scene, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "ANNA"), text="a --> b <b>bold</b> & co")
    vtt = client_for(viewer).get(captions_url(scene.project)).content.decode()
    assert "ANNA: a → b &lt;b&gt;bold&lt;/b&gt; &amp; co" in vtt
    assert vtt.count("-->") == 1


def test_the_page_asks_a_worker_for_the_sound_once_and_says_it_is_being_prepared(
        client_for, viewer, board, django_capture_on_commit_callbacks):
    client = client_for(viewer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client.get(cut_url(board["dawn"].project)).content.decode()
    assert 'data-testid="cut-sound-preparing">Preparing the sound…<' in page
    assert PlayAllMix.objects.filter(project=board["dawn"].project, status=SoundStatus.PROCESSING).count() == 1
    assert len(callbacks) == 1  # the task, on commit: never made in the request
    with django_capture_on_commit_callbacks(execute=False) as again:
        client.get(cut_url(board["dawn"].project))
        client.get(captions_url(board["dawn"].project))
    assert len(again) == 0 and PlayAllMix.objects.count() == 1  # the same board: the same mix, asked once


def _made(client, project, capture):
    with capture(execute=True):
        client.get(cut_url(project))
    return PlayAllMix.objects.get(project=project, status=SoundStatus.READY)


def test_the_worker_makes_the_mix_and_open_pages_swap_it_in(client_for, viewer, board,
                                                            django_capture_on_commit_callbacks):
    project = board["dawn"].project
    client = client_for(viewer)
    mix = _made(client, project, django_capture_on_commit_callbacks)
    assert mix.seconds == pytest.approx(7.0) and [c["speaker"] for c in mix.cues] == ["ANNA", "BOB"]
    event = ChangeEvent.objects.filter(kind=ChangeKind.PLAY_ALL_SOUND_READY).get()
    (message,) = render_change(event, "viewer", viewer.pk)
    sound_url = reverse("projects:project_cut_sound", args=[project.pk, mix.pk])
    assert 'id="cut-sound"' in message.data and 'hx-swap-oob="true"' in message.data and sound_url in message.data
    page = client.get(cut_url(project)).content.decode()
    assert sound_url in page and 'data-testid="cut-captions-track"' in page and "Preparing the sound" not in page
    served = client.get(sound_url)
    assert served.status_code == 200 and served["Content-Type"] == "audio/mp4"


def test_the_sound_is_drawn_once_for_every_member_and_never_for_a_review_links_guests(
        client_for, viewer, owner, board, django_capture_on_commit_callbacks):
    project = board["dawn"].project
    _made(client_for(viewer), project, django_capture_on_commit_callbacks)
    event = ChangeEvent.objects.filter(kind=ChangeKind.PLAY_ALL_SOUND_READY).get()
    drawing = ChangeDrawing(event, _Read([event]))
    assert {drawing.audience(role, user) for role, user in (("owner", owner.pk), ("editor", 0), ("viewer", viewer.pk))} \
        == {"everyone"}
    # A guest's page has no Play all, whatever its link shares (the approved cut too): nothing of the sound is sent.
    link, _token = guest_links.link_create(project=project, user=owner, label="Client", scope="cut")
    guest = f"{GUEST}{link.pk}"
    assert drawing.audience(guest, 0) == ("guest", link.pk) and render_change(event, guest) == []


def test_the_mix_speaks_where_the_lines_are_and_is_silent_elsewhere(client_for, viewer, board,
                                                                   django_capture_on_commit_callbacks):
    mix = _made(client_for(viewer), board["dawn"].project, django_capture_on_commit_callbacks)
    with mix.audio.open("rb") as fh, av.open(fh) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        sound = np.concatenate([o.to_ndarray()[0] for f in container.decode(audio=0) for o in resampler.resample(f)])
    assert len(sound) == pytest.approx(7 * SAMPLE_RATE, abs=SAMPLE_RATE // 5)

    def window(a, b):
        return sound[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)]

    first, second = mix.cues
    for cue in (first, second):
        assert band_energy(window(cue["start"] + 0.05, cue["end"] - 0.05)) > 1e-4, cue["text"]
    assert np.sqrt(np.mean(np.square(window(0.1, 4.4)))) < 0.003  # Dawn and Night have no lines
    assert np.sqrt(np.mean(np.square(window(second["end"] + 0.15, 6.9)))) < 0.003


def test_a_changed_line_asks_for_another_mix(client_for, viewer, owner, board, django_capture_on_commit_callbacks):
    project = board["dawn"].project
    client = client_for(viewer)
    first = _made(client, project, django_capture_on_commit_callbacks)
    line = board["storm"].lines.get(speaker="BOB")
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_update(line=line, user=owner, expected_version=line.version, text="Not yet.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = client.get(cut_url(project)).content.decode()
    assert "Preparing the sound…" in page and len(callbacks) == 1
    assert PlayAllMix.objects.filter(project=project).exclude(key=first.key).exists()
    vtt = client.get(captions_url(project)).content.decode()
    assert "BOB: Not yet." in vtt and "Nearly." not in vtt


def test_another_take_in_the_sequence_asks_for_another_mix(client_for, viewer, reviewer, board,
                                                          django_capture_on_commit_callbacks):
    project = board["dawn"].project
    first = _made(client_for(viewer), project, django_capture_on_commit_callbacks)
    review.take_approve(take=board["night"].renders.exclude(pk=board["newest"].pk).get(), user=reviewer)
    entries, _dropped = playall.play_all_sequence(project)
    assert [e.kind for e in entries] == ["approved", "approved", "card"]
    assert playall.recipe_key(playall.sound_recipe(project, entries)) != first.key


def test_another_team_gets_nothing_of_play_all(client_for, outsider, board, viewer,
                                              django_capture_on_commit_callbacks):
    project = board["dawn"].project
    mix = _made(client_for(viewer), project, django_capture_on_commit_callbacks)
    client = client_for(outsider)
    for url in (cut_url(project), captions_url(project),
                reverse("projects:project_cut_sound", args=[project.pk, mix.pk])):
        assert client.get(url).status_code == 404, url


def test_the_page_costs_the_same_queries_for_one_card_or_many(client_for, viewer, make_scene, owner, project,
                                                              django_capture_on_commit_callbacks):
    def card(title):
        scene = make_scene(title=title)
        with django_capture_on_commit_callbacks(execute=True):
            dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "ANNA"), text=f"{title}, at last.")

    client = client_for(viewer)
    card("Pier")
    client.get(cut_url(project))
    with CaptureQueriesContext(connection) as one:
        client.get(cut_url(project))
    for title in ("Dock", "Gull", "Mast", "Sail"):
        card(title)
    client.get(cut_url(project))
    with CaptureQueriesContext(connection) as five:
        page = client.get(cut_url(project)).content.decode()
    assert page.count('data-testid="cut-card"') == 5
    assert len(five.captured_queries) == len(one.captured_queries)

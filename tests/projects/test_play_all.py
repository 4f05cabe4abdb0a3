"""Play all plays the whole board: approved takes, else the newest take (marked), else a card; with the
voice-over and bed mixed by a worker (swapped in over the live channel) and captions from the lines."""

import json
import re

import av
import numpy as np
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from generation.sound.audio import SAMPLE_RATE
from projects.live.fragments import ChangeDrawing, _Read, render_change
from projects.live.review_fragments import GUEST
from projects.models import ChangeEvent, ChangeKind, PlayAllMix, Scene, SoundStatus
from projects.review import guest_links, playall
from projects.review import services as review
from projects.storyboard import trash
from projects.storyboard.dialogue import services as dialogue
from projects.storyboard.sound import mix
from tests.sound.helpers import band_energy


def cut_url(project):
    return reverse("projects:project_cut", args=[project.pk])


def captions_url(project):
    return reverse("projects:project_cut_captions", args=[project.pk])


def sound_url(project):
    return reverse("projects:project_cut_sound_state", args=[project.pk])


def stop_url(scene):
    return reverse("projects:project_cut_stop", args=[scene.project_id, scene.pk])


def player_data(page):
    """The sequence the page hands its player (the JSON script review.js reads)."""
    return json.loads(re.search(r'<script id="cut-stops" type="application/json">(.*?)</script>', page, re.S)[1])


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
    client = client_for(viewer)
    page = client.get(cut_url(board["dawn"].project)).content.decode()
    data = player_data(page)
    stops = data["stops"]
    assert [s["kind"] for s in stops] == ["approved", "newest", "card"]
    assert [f'{s["number"]}. {s["title"]}' for s in stops] == ["1. Dawn", "2. Night", "3. Storm"]
    assert stops[0]["src"] == reverse("generation:render_file", args=[board["approved"].pk, "video"])
    assert stops[1]["src"] == reverse("generation:render_file", args=[board["newest"].pk, "video"])  # take 2, not 1
    assert stops[1]["take_number"] == 2 and "src" not in stops[2]
    older = board["night"].renders.exclude(pk=board["newest"].pk).get()
    assert reverse("generation:render_file", args=[older.pk, "video"]) not in page
    # The approved take carries its provenance chip; the sequence runs 2 + 2 + 3 seconds.
    assert data["chips"][stops[0]["chip"]]["state"] == board["approved"].provenance_state
    assert [(s["start"], s["duration"]) for s in stops] == [(0.0, 2.0), (2.0, 2.0), (4.0, 3.0)]
    assert "Night" in page.split('data-testid="cut-missing"')[1]
    # The card's title and lines come when its stop is about to play, not with the page.
    assert "Is the boat ready?" not in page
    card = client.get(stop_url(board["storm"])).content.decode()
    assert "3. Storm" in card and "ANNA" in card and "Is the boat ready?" in card


def test_the_page_holds_no_card_lines_only_what_the_player_needs_per_stop(client_for, viewer, make_scene, owner,
                                                                           project, django_capture_on_commit_callbacks):
    scenes = [make_scene(title=f"Scene {n}") for n in range(1, 41)]
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_add(scene=scenes[39], user=owner, speaker=(None, "MARA"), text="The tide turns at nine.")
    client = client_for(viewer)
    page = client.get(cut_url(project)).content.decode()
    assert len(player_data(page)["stops"]) == 40
    assert "The tide turns at nine." not in page and "MARA" not in page
    card = client.get(stop_url(scenes[39])).content.decode()
    assert "40. Scene 40" in card and "MARA" in card and "The tide turns at nine." in card
    # With the stop come its captions, timed from the stop's start, for the player until the mix is made.
    cues = json.loads(re.search(r'<script id="cut-stop-cues" type="application/json">(.*?)</script>', card, re.S)[1])
    assert [(c["speaker"], c["text"]) for c in cues] == [("MARA", "The tide turns at nine.")]
    assert cues[0]["start"] == pytest.approx(0.5)  # after the project's pause, from the stop's own start


def test_a_stop_refuses_another_team_a_guest_and_a_scene_in_the_trash(client_for, viewer, outsider, board, owner):
    client_viewer = client_for(viewer)
    assert client_viewer.get(stop_url(board["storm"])).status_code == 200
    assert client_for(outsider).get(stop_url(board["storm"])).status_code == 404
    anonymous = Client().get(stop_url(board["storm"]))  # a guest with a review link has no session: the sign-in page
    assert anonymous.status_code == 302 and "Is the boat ready?" not in anonymous.content.decode()
    trash.scene_trash(scene=board["storm"], user=owner)
    client = client_viewer
    assert client.get(stop_url(board["storm"])).status_code == 404


def test_a_board_of_cards_only_still_plays(client_for, viewer, make_scene):
    scene = make_scene(title="Pier")
    page = client_for(viewer).get(cut_url(scene.project)).content.decode()
    assert [s["kind"] for s in player_data(page)["stops"]] == ["card"] and 'data-testid="cut-empty"' not in page
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


def test_the_scenes_not_approved_are_named_with_their_titles_escaped(client_for, viewer, board):
    Scene.objects.filter(pk=board["night"].pk).update(title='<b>Night</b> & "day"')
    page = client_for(viewer).get(cut_url(board["dawn"].project)).content.decode()
    missing = page.split('data-testid="cut-missing"')[1].split("</p>")[0]
    assert "2. &lt;b&gt;Night&lt;/b&gt; &amp; &quot;day&quot;, 3. Storm." in missing and "<b>" not in missing


def test_a_line_cannot_break_out_of_its_caption(client_for, viewer, scene, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "ANNA"), text="a --> b <b>bold</b> & co")
    vtt = client_for(viewer).get(captions_url(scene.project)).content.decode()
    assert "ANNA: a → b &lt;b&gt;bold&lt;/b&gt; &amp; co" in vtt
    assert vtt.count("-->") == 1


def test_the_page_asks_a_worker_for_the_sound_once_and_says_it_is_being_prepared(
        client_for, viewer, board, django_capture_on_commit_callbacks):
    client = client_for(viewer)
    project = board["dawn"].project
    page = client.get(cut_url(project)).content.decode()
    assert f'hx-get="{sound_url(project)}" hx-trigger="load"' in page  # the page asks once it has loaded
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sound = client.get(sound_url(project)).content.decode()
    assert 'data-testid="cut-sound-preparing">Preparing the sound…<' in sound
    assert PlayAllMix.objects.filter(project=project, status=SoundStatus.PROCESSING).count() == 1
    assert len(callbacks) == 1  # the task, on commit: never made in the request
    with django_capture_on_commit_callbacks(execute=False) as again:
        client.get(cut_url(project))
        client.get(sound_url(project))
        client.get(captions_url(project))
    assert len(again) == 0 and PlayAllMix.objects.count() == 1  # the same board: the same mix, asked once


def _made(client, project, capture):
    with capture(execute=True):
        client.get(sound_url(project))
    return PlayAllMix.objects.get(project=project, status=SoundStatus.READY)


def test_the_worker_makes_the_mix_and_open_pages_swap_it_in(client_for, viewer, board,
                                                            django_capture_on_commit_callbacks):
    project = board["dawn"].project
    client = client_for(viewer)
    mix = _made(client, project, django_capture_on_commit_callbacks)
    assert mix.seconds == pytest.approx(7.0) and [c["speaker"] for c in mix.cues] == ["ANNA", "BOB"]
    event = ChangeEvent.objects.filter(kind=ChangeKind.PLAY_ALL_SOUND_READY).get()
    (message,) = render_change(event, "viewer", viewer.pk)
    file_url = reverse("projects:project_cut_sound", args=[project.pk, mix.pk])
    assert 'id="cut-sound"' in message.data and 'hx-swap-oob="true"' in message.data and file_url in message.data
    state = client.get(sound_url(project)).content.decode()
    assert file_url in state and 'data-testid="cut-captions-track"' in state and "Preparing the sound" not in state
    served = client.get(file_url)
    assert served.status_code == 200 and served["Content-Type"] == "audio/mp4"


def test_the_worker_writes_the_captions_once_and_every_viewer_reads_them(client_for, viewer, board,
                                                                        django_capture_on_commit_callbacks):
    project = board["dawn"].project
    client = client_for(viewer)
    made = _made(client, project, django_capture_on_commit_callbacks)
    # Written with the mix, as the lines were placed in it: not formatted again for each viewer's player.
    assert made.captions == playall.captions_vtt(made.cues) and "ANNA: Is the boat ready?" in made.captions
    assert client.get(captions_url(project)).content.decode() == made.captions
    # A mix made before its captions were kept still gives them, from its cues.
    PlayAllMix.objects.filter(pk=made.pk).update(captions="")
    assert client.get(captions_url(project)).content.decode() == playall.captions_vtt(made.cues)


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
        state = client.get(sound_url(project)).content.decode()
    assert "Preparing the sound…" in state and len(callbacks) == 1
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
    for url in (cut_url(project), captions_url(project), sound_url(project), stop_url(board["storm"]),
                reverse("projects:project_cut_sound", args=[project.pk, mix.pk])):
        assert client.get(url).status_code == 404, url


def test_the_page_and_a_stop_cost_the_same_queries_for_one_card_or_many(
        client_for, viewer, make_scene, owner, project, django_capture_on_commit_callbacks):
    def card(title):
        scene = make_scene(title=title)
        with django_capture_on_commit_callbacks(execute=True):
            dialogue.dialogue_line_add(scene=scene, user=owner, speaker=(None, "ANNA"), text=f"{title}, at last.")
        return scene

    client = client_for(viewer)
    pier = card("Pier")
    client.get(cut_url(project))
    with CaptureQueriesContext(connection) as one:
        client.get(cut_url(project))
    with CaptureQueriesContext(connection) as one_stop:
        client.get(stop_url(pier))
    for title in ("Dock", "Gull", "Mast", "Sail"):
        card(title)
    client.get(cut_url(project))
    with CaptureQueriesContext(connection) as five:
        page = client.get(cut_url(project)).content.decode()
    with CaptureQueriesContext(connection) as five_stop:
        client.get(stop_url(pier))
    assert [s["kind"] for s in player_data(page)["stops"]] == ["card"] * 5
    assert len(five.captured_queries) == len(one.captured_queries)
    assert len(five_stop.captured_queries) == len(one_stop.captured_queries)


@pytest.mark.django_db
def test_the_pages_sequence_is_the_one_the_worker_mixes_with_each_scenes_review_status():
    # A board with every status (approved, changes requested, failed, in review, nothing filmed), a take withheld
    # and a scene out of the cut: the page's compact stops must be what the worker's sequence plays, or the page
    # would ask for a mix no worker makes.
    from generation.models import Render, Status
    from projects import selectors
    from projects.models import Scene
    from tests.realistic import build_project

    built = build_project(scenes=12, takes_per_scene=3)
    scenes = list(built.project.scenes.order_by("position"))
    Scene.objects.filter(pk=scenes[3].pk).update(in_cut=False)
    Render.objects.filter(scene=scenes[5]).delete()
    unapproved = [scene for scene in scenes[8:] if not scene.approved_take_id and scene.renders.exists()]
    newest = unapproved[0].renders.order_by("-created_at", "-pk").first()
    Render.objects.filter(pk=newest.pk).update(status=Status.FAILED)
    Render.objects.filter(scene=scenes[7]).update(quarantined_at=timezone.now())
    sequence = selectors.cut_sequence_for(project=built.project)
    entries, dropped = playall.play_all_sequence(built.project)
    assert dropped == [scenes[3]]
    assert [(s["scene"], s.get("take"), s["kind"], s["start"], s["duration"]) for s in sequence.stops] == [
        (e.scene.pk, e.take.pk if e.take else None, e.kind, e.start, e.duration) for e in entries]
    statuses = {s.pk: s.review_status for s in selectors.with_review_status(built.project.scenes.all())}
    assert {s["scene"]: s["status"] for s in sequence.stops} == {pk: str(st) for pk, st in statuses.items()
                                                                 if pk != scenes[3].pk}
    assert {"approved", "changes_requested", "failed", "in_review", "no_take"} <= set(statuses.values())
    assert {"approved", "newest", "card"} == {s["kind"] for s in sequence.stops}
    assert playall.recipe_key(playall.sound_recipe(built.project, sequence.timings)) == \
        playall.recipe_key(playall.sound_recipe(built.project, entries))
    # The sound's state and the captions read the stops' timings alone: the same stops.
    assert selectors.cut_timings_for(project=built.project) == sequence.timings == playall.timings(entries)

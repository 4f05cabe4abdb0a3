"""Benchmark the scratch voice-over: one line spoken, a board's lines spoken, and a board's previz
animatics rendered with their voice-over and the bed under it.

    .venv/bin/python bench/sound.py [--scenes 40] [--seconds 4] [--size 1280x720]

Builds a throwaway project (SQLite under a temp folder) of N scenes, each with two lines of dialogue
spoken by plain names, and a sound bed (a generated ambience, prepared as an upload is). Then:

- the voice-over of one 10-word line, spoken fresh (not cached): CPU of the studio's process and of
  the engine's own process together (target ≤ 0.5 s);
- every line of the board spoken by the worker's task (one engine process per scene);
- every scene's animatic as the previz job draws it (generation/previz/jobs.py): the lines read from
  the cache, laid out, the bed's stretch ducked under them, subtitles timed to the speech, H.264 +
  AAC. Board seconds ÷ wall seconds is the multiple of real time (target ≥ 4×). The C2PA signing and
  thumbnail of a take are left out (bench/previz.py and bench/pipeline.py measure those).

Asserts nothing; prints the machine's load average, since other processes skew wall times.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import database  # noqa: E402

LINES = [
    ("ANNA", "We should leave before the tide turns against us tonight."),
    ("BEN", "Then pack the lamps, and say nothing to the harbour master."),
    ("CLAIRE", "Le bateau part à six heures, avec ou sans vous."),
    ("ANNA", "Storm's coming. Light the lamp."),
]


def cpu() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def setup_django(tmp: Path) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "studio_site.settings",
        "DATA_DIR": str(tmp / "data"),
        "MEDIA_ROOT": str(tmp / "media"),
        "C2PA_DIR": str(tmp / "c2pa"),
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    })
    database.migrate()
    import django

    django.setup()


def board(scenes: int, seconds: int, size: str):
    """A project of `scenes` scenes with two lines each, and a prepared sound bed."""
    import numpy as np
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from generation.sound.audio import SAMPLE_RATE, wav_bytes
    from projects.models import DialogueLine, Scene, SoundBed
    from projects.storyboard import services
    from projects.storyboard.sound import bed
    from projects.teams import services as team_services

    user = get_user_model().objects.create_user(username="bench", password="x" * 12)
    team = team_services.team_create(name="Bench", owner=user)
    project = services.project_create(team=team, user=user, name="Sound bench")
    rows = Scene.objects.bulk_create([
        Scene(project=project, position=i, title=f"Scene {i + 1}", prompt=f"Scene {i + 1}: the harbour at dusk.",
              duration=seconds, size=size) for i in range(scenes)])
    DialogueLine.objects.bulk_create([
        DialogueLine(scene=scene, position=k, speaker=LINES[(i + k) % len(LINES)][0],
                     text=LINES[(i + k) % len(LINES)][1]) for i, scene in enumerate(rows) for k in range(2)])
    # Ambience as long as the board: waves (filtered noise) under a low hum.
    length = scenes * seconds + 2
    rng = np.random.default_rng(7)
    noise = np.convolve(rng.normal(0, 0.2, length * SAMPLE_RATE), np.ones(64) / 64, mode="same")
    hum = 0.05 * np.sin(2 * np.pi * 70 * np.arange(length * SAMPLE_RATE) / SAMPLE_RATE)
    upload = SimpleUploadedFile("ambience.wav", wav_bytes((noise + hum).astype(np.float32)))
    made = bed.sound_bed_upload(project=project, user=user, upload=upload)
    bed.bed_prepare(made.pk)  # what the worker's task does
    assert SoundBed.objects.get(pk=made.pk).status == "ready"
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=4, help="each scene's length")
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sound-") as folder:
        tmp = Path(folder)
        setup_django(tmp)
        from django.core.files.storage import default_storage

        from generation.previz import animatic
        from generation.sound import speech
        from projects.models import Scene
        from projects.storyboard.sound import mix, speaking

        # One 10-word line, never spoken before: the engine's process started for it.
        line = speech.SpeechRequest("Keep the lamps lit until the last boat is home.", "en-us+m3")
        assert len(line.text.split()) == 10
        before_cpu, before = cpu(), time.perf_counter()
        (spoken,) = speech.synthesize([line])
        one_cpu, one_wall = cpu() - before_cpu, time.perf_counter() - before
        print(f"voice-over of one 10-word line ({len(spoken) / 48000:.1f} s of speech): cpu {one_cpu:.3f} s "
              f"(studio + engine process), wall {one_wall:.3f} s  target ≤ 0.5 s cpu: "
              f"{'met' if one_cpu <= 0.5 else 'MISSED'}")

        project = board(args.scenes, args.seconds, args.size)
        scenes = list(Scene.objects.filter(project=project).select_related("project").order_by("position"))
        before_cpu, before = cpu(), time.perf_counter()
        for scene in scenes:
            speaking.scene_voice(scene=scene)
        print(f"speaking the board's {2 * len(scenes)} lines ({len(scenes)} engine processes): "
              f"cpu {cpu() - before_cpu:.2f} s, wall {time.perf_counter() - before:.2f} s")

        width, height = (int(v) for v in args.size.split("x"))
        mixes, total_cpu, start = [], cpu(), time.perf_counter()
        for scene in scenes:
            t = time.perf_counter()
            sound = mix.previz_sound_recipe(scene)
            audio, cues = mix.previz_sound(sound, seconds=scene.duration, storage=default_storage)
            mixes.append(time.perf_counter() - t)
            out = tmp / f"scene-{scene.position}.mp4"
            animatic.render_animatic(
                out_path=out, width=width, height=height, seconds=scene.duration, title=scene.title,
                prompt=scene.prompt, scene_number=scene.number, audio=audio,
                subtitles=[(c.start, min(c.end, scene.duration), f"{c.speaker}: {c.text}") for c in cues])
            out.unlink()
        wall, used = time.perf_counter() - start, cpu() - total_cpu
        seconds = sum(s.duration for s in scenes)
        ratio = seconds / wall
        print(f"mix per scene (lines from the cache, bed ducked under them): median "
              f"{1000 * statistics.median(mixes):.1f} ms")
        print(f"board animatic: {len(scenes)} scenes, {seconds} s of board at {args.size} in {wall:.2f} s wall "
              f"(cpu {used:.2f} s) = {ratio:.1f}x real time  target ≥ 4x: {'met' if ratio >= 4 else 'MISSED'}")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

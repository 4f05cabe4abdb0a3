"""Multi-shot takes: the models that render several scenes in one request.

- The local previz draws a group as one animatic with a cut per shot: 2–6 shots, 2–60 s in all.
- fal's Wan 2.6 text-to-video (`wan/v2.6/text-to-video`, as fal's client types name it): `multi_shots`
  with prompt expansion, the shots timed in the prompt ("Shot 1 [0-3s] …"); 5, 10 or 15 s; 720p or 1080p.
  Price an estimate (third-party listings), editable in the admin.
- Runway's multi-shot recipe (`POST /v1/recipes/multi_shot_video`, runwayml's RecipeMultiShotVideoParams):
  custom mode, 3–5 shots whose durations sum to 5, 10 or 15 s; an optional first frame. It renders no
  single scene: `shots_min` says so. Price an estimate.
Kling 3 Pro on fal and Seedance 2.0 already declare multi-shot (0033).
"""

from django.db import migrations

PREVIZ = dict(shot_timing="exact", shots_max=6, shots_seconds_min=2, shots_seconds_max=60, shot_min_seconds=1)

CATALOG = [
    ("fal", {"model_id": "wan/v2.6/text-to-video", "display_name": "Wan 2.6 (fal)",
             "sizes": ["1280x720", "720x1280", "1920x1080", "1080x1920"], "durations": [5, 10, 15],
             "input_kinds": ["text"], "has_audio": False, "price_per_second": {"1280x720": 0.10, "720x1280": 0.10,
                                                                             "*": 0.15},
             "input_schema": {"prompt": "string ≤ 1500", "duration": ["5", "10", "15"], "resolution": ["720p", "1080p"],
                              "multi_shots": "boolean", "enable_prompt_expansion": "boolean"},
             "shot_timing": "exact", "shots_max": 6, "shot_min_seconds": 1,
             "notes": "Price an estimate [3p]; the shots' timings travel in the prompt. Check fal.ai/models."}),
    ("runway", {"model_id": "multi_shot_video", "display_name": "Multi-shot recipe (Runway)",
                "sizes": ["1280x720", "720x1280", "1920x1080", "1080x1920"], "durations": [5, 10, 15],
                "input_kinds": ["text", "image"], "has_audio": True,
                "price_per_second": {"1280x720": 0.15, "720x1280": 0.15, "*": 0.25},
                "input_schema": {"shots_min": 3, "version": "2026-06"},
                "shot_timing": "exact", "shots_max": 5, "shot_min_seconds": 1,
                "notes": "3–5 shots only, 5/10/15 s in all; 1080p ratios use Runway's pro tier. Prices are "
                         "estimates: each take records the credits Runway charged."}),
]


def forwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    CatalogModel.objects.filter(kind="local", model_id="previz-animatic-1").update(**PREVIZ)
    for kind, row in CATALOG:
        CatalogModel.objects.update_or_create(
            kind=kind, model_id=row["model_id"], connection=None,
            defaults={**row, "kind": kind, "lifecycle": "available", "lifecycle_date": None})


def backwards(apps, schema_editor):
    CatalogModel = apps.get_model("generation", "CatalogModel")
    CatalogModel.objects.filter(kind="local", model_id="previz-animatic-1").update(
        shot_timing="", shots_max=None, shots_seconds_min=None, shots_seconds_max=None, shot_min_seconds=None)
    for kind, row in CATALOG:
        CatalogModel.objects.filter(kind=kind, connection=None, model_id=row["model_id"]).delete()


class Migration(migrations.Migration):
    dependencies = [("generation", "0043_multishot_takes")]

    operations = [migrations.RunPython(forwards, backwards)]

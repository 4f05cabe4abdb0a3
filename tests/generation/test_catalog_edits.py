"""Owners edit the models a connection offers, for their team only, from the connection page."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from generation import catalog
from generation.models import CatalogModel, Lifecycle, Render
from generation.providers import connections
from generation.renders import services

WAN = "wan-video/wan-2.7-t2v"


@pytest.fixture
def replicate(team, owner):
    return connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                         base_url="http://127.0.0.1:9/v1", api_key="r8-test",
                                         webhook_secret="whsec_c2VjcmV0")


def shipped(model_id=WAN, kind="replicate"):
    return CatalogModel.objects.get(connection=None, kind=kind, model_id=model_id)


def edit_url(connection, model):
    return reverse("generation:catalog_entry_edit", args=[connection.team_id, connection.pk, model.pk])


def catalog_url(connection):
    return reverse("generation:connection_catalog", args=[connection.team_id, connection.pk])


def form_data(model, **overrides):
    from generation.providers.forms import CatalogEntryForm

    data = {k: v for k, v in CatalogEntryForm.initial_for(model).items() if v not in (None, False, "")}
    data["lifecycle_date"] = model.lifecycle_date.isoformat() if model.lifecycle_date else ""
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def estimate(client, scene, connection, model_id=WAN) -> str:
    html = client.get(reverse("generation:render_preview", args=[scene.pk]),
                      {"target": f"{connection.pk}:{model_id}"}).content.decode()
    return html


def test_the_connection_page_lists_shipped_and_own_models_with_where_they_come_from(client_for, owner, team,
                                                                                      replicate):
    client = client_for(owner)
    client.post(edit_url(replicate, shipped()), form_data(shipped(), price_per_second="0.25"))
    html = client.get(catalog_url(replicate)).content.decode()
    assert "Veo 3.1 (Replicate)" in html and "google/veo-3.1" in html
    assert html.count("edited for this team") == 1 and "shipped" in html
    assert "$0.25" in html and "$0.40" in html and "2, 3, 4" in html and "text + image" in html
    # The owner's connection page lists the same catalog.
    edit_page = client.get(reverse("generation:connection_edit", args=[team.pk, replicate.pk])).content.decode()
    assert "edited for this team" in edit_page and "Veo 3.1 (Replicate)" in edit_page


def test_an_owner_editing_a_shipped_model_makes_the_teams_copy_and_leaves_the_shipped_row(
        client_for, owner, team, replicate, make_team, make_user):
    other_team = make_team("Other", owner=make_user("olga"))
    theirs = connections.connection_create(team=other_team, user=None, kind="replicate", label="Theirs",
                                           api_key="k")
    response = client_for(owner).post(edit_url(replicate, shipped()), form_data(
        shipped(), price_per_second="0.25", durations="2, 4", typical_seconds="90", has_audio="on"))
    assert response.status_code == 302
    copy = CatalogModel.objects.get(connection=replicate, model_id=WAN)
    assert (copy.price_per_second, copy.durations, copy.typical_seconds, copy.has_audio) == ({"*": 0.25}, [2, 4],
                                                                                             90, True)
    assert shipped().price_per_second == {"*": 0.10} and shipped().durations == list(range(2, 16))
    assert catalog.resolve(theirs, WAN).price_per_second == {"*": 0.10}
    assert catalog.resolve(replicate, WAN) == copy
    # One entry per model id in the render form: the copy, not both.
    offered = [t.model for t in catalog.available_targets(team) if t.model.model_id == WAN]
    assert offered == [copy]


def test_editing_again_updates_the_teams_copy_even_from_the_shipped_rows_link(client_for, owner, replicate):
    client = client_for(owner)
    client.post(edit_url(replicate, shipped()), form_data(shipped(), price_per_second="0.25"))
    client.post(edit_url(replicate, shipped()), form_data(shipped(), price_per_second="0.3"))
    assert list(CatalogModel.objects.filter(connection=replicate, model_id=WAN)
                .values_list("price_per_second", flat=True)) == [{"*": 0.3}]


def test_a_raised_price_shows_in_the_estimate_and_new_bookings_but_booked_takes_keep_their_cost(
        client_for, owner, editor, scene, replicate):
    booked, _ = services.render_create(scene=scene, user=editor, connection=replicate, model_id=WAN,
                                       idempotency_key=uuid.uuid4())
    assert booked.cost == Decimal("0.20")  # 2 s at $0.10
    assert "est. $0.20" in estimate(client_for(editor), scene, replicate)
    client_for(owner).post(edit_url(replicate, shipped()), form_data(shipped(), price_per_second="0.25"))
    assert "est. $0.50" in estimate(client_for(editor), scene, replicate)
    again, _ = services.render_create(scene=scene, user=editor, connection=replicate, model_id=WAN,
                                      idempotency_key=uuid.uuid4())
    assert again.cost == Decimal("0.50")
    booked.refresh_from_db()
    assert booked.cost == Decimal("0.20")


def test_a_model_retired_for_the_team_is_refused_with_the_live_alternatives(client_for, owner, editor, scene,
                                                                             replicate):
    response = client_for(owner).post(edit_url(replicate, shipped()), form_data(
        shipped(), lifecycle="retired", lifecycle_date="2026-11-01"))
    assert response.status_code == 302
    html = client_for(editor).post(reverse("generation:render_create", args=[scene.pk]), {
        "target": f"{replicate.pk}:{WAN}", "idempotency_key": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true").content.decode()
    assert "Wan 2.7 text-to-video (Replicate) was retired on 2026-11-01. Models that fit this scene:" in html
    assert "Previz animatic (free)" in html
    assert not Render.objects.filter(model=WAN).exists()
    assert not shipped().is_retired


@pytest.mark.parametrize("overrides, message", [
    ({"sizes": "1280x720, big"}, "“big” is not a size"),
    ({"sizes": "0x720"}, "“0x720” is not a size"),
    ({"sizes": ""}, "This field is required."),
    ({"durations": "4, -2"}, "“-2” is not a length"),
    ({"durations": "4.5"}, "“4.5” is not a length"),
    ({"durations": "4,,8"}, "Durations are whole seconds"),
    ({"price_per_second": "-0.1"}, "between 0 and 100"),
    ({"price_per_second": "0.123456"}, "at most 4 decimals"),
    ({"price_per_second": "NaN"}, "“NaN” is not a price"),
    ({"price_per_second": "1e999999"}, "between 0 and 100"),
    ({"price_per_second": "0,40"}, "with a decimal point"),
    ({"price_per_second": "1280x720=0.1"}, "Give 720x1280, 1920x1080, 1080x1920 a price too"),
    ({"price_per_second": "640x480=0.1, *=0.2"}, "640x480 is not one of the model&#x27;s sizes"),
    ({"lifecycle": "retired", "lifecycle_date": ""}, "A retired model needs the day it retired."),
    ({"lifecycle": "deprecated", "lifecycle_date": ""}, "A deprecated model needs the day it retires."),
    ({"lifecycle": "deprecated", "lifecycle_date": "2020-01-01"}, "Choose Retired, or a later date."),
    ({"lifecycle": "available", "lifecycle_date": "2030-01-01"}, "An available model has no retirement date"),
    ({"lifecycle": "retired", "lifecycle_date": "31/12/2026"}, "Enter a valid date."),
    ({"lifecycle": "retired", "lifecycle_date": "1999-12-31"}, "between 2000 and 2100"),
    ({"lifecycle": "retired", "lifecycle_date": "2099-12-31"}, "for a later day choose Deprecated"),
    ({"lifecycle": "gone"}, "Select a valid choice."),
    ({"input_kinds": None}, "Tick what the model takes"),
    ({"typical_seconds": "0"}, "greater than or equal to 1"),
    ({"display_name": "Wan\x00"}, "control characters"),
])
def test_bad_input_is_refused_in_the_page_and_changes_nothing(client_for, owner, replicate, overrides, message):
    response = client_for(owner).post(edit_url(replicate, shipped()), form_data(shipped(), **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CatalogModel.objects.filter(connection=replicate).exists()
    assert shipped().price_per_second == {"*": 0.10}


def test_prices_by_size_are_kept_per_size(client_for, owner, replicate):
    client_for(owner).post(edit_url(replicate, shipped()), form_data(
        shipped(), price_per_second="*=0.08, 720x1280=0.05, 1280x720=0.05"))
    copy = CatalogModel.objects.get(connection=replicate, model_id=WAN)
    assert (copy.price_for("1280x720"), copy.price_for("1920x1080")) == (Decimal("0.05"), Decimal("0.08"))
    html = client_for(owner).get(catalog_url(replicate)).content.decode()
    # In the order of the model's sizes, any other size last, whatever order they were typed or stored in.
    assert "1280x720 $0.05 · 720x1280 $0.05 · any other $0.08" in html
    edit_form = client_for(owner).get(edit_url(replicate, copy)).content.decode()
    assert 'value="1280x720=0.05, 720x1280=0.05, *=0.08"' in edit_form


def test_a_deprecated_model_shows_the_day_it_retires_and_the_form_keeps_it(client_for, owner, replicate):
    client = client_for(owner)
    client.post(edit_url(replicate, shipped()), form_data(shipped(), lifecycle="deprecated",
                                                          lifecycle_date="2099-01-31"))
    assert "Deprecated (retires 2099-01-31)" in client.get(catalog_url(replicate)).content.decode()
    copy = CatalogModel.objects.get(connection=replicate, model_id=WAN)
    assert 'value="2099-01-31"' in client.get(edit_url(replicate, copy)).content.decode()


def test_a_model_its_provider_retired_cannot_be_made_available_again(client_for, owner, team):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                            base_url="https://gw.example/v1", api_key="sk-1")
    sora = shipped("sora-2", kind="openai-videos")
    html = client_for(owner).post(edit_url(gateway, sora), form_data(
        sora, lifecycle="available", lifecycle_date="")).content.decode()
    assert "Sora 2 was retired on 2026-09-24 by its provider" in html
    assert not CatalogModel.objects.filter(connection=gateway).exists()


def test_declared_fields_of_an_openai_gateway_model_are_checked_like_registration(client_for, owner, team):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                            base_url="https://gw.example/v1", api_key="sk-1")
    model = connections.catalog_register_model(connection=gateway, model_id="seedance-2", display_name="Seedance",
                                               sizes=["1280x720"], durations=[5], price_per_second=0.2)
    client = client_for(owner)
    html = client.post(edit_url(gateway, model), form_data(model, extra_fields="prompt=hello")).content.decode()
    assert "“prompt” is already a field of the format" in html
    client.post(edit_url(gateway, model), form_data(model, extra_fields="quality=high", native_characters="on"))
    model.refresh_from_db()
    assert model.extra_fields == {"quality": "high"} and model.declares_characters
    assert "registered by this team" in client.get(catalog_url(gateway)).content.decode()


def test_back_to_the_shipped_entry_deletes_the_teams_copy(client_for, owner, replicate):
    client = client_for(owner)
    client.post(edit_url(replicate, shipped()), form_data(shipped(), price_per_second="0.25"))
    copy = CatalogModel.objects.get(connection=replicate, model_id=WAN)
    assert "Back to the shipped entry" in client.get(edit_url(replicate, copy)).content.decode()
    response = client.post(edit_url(replicate, copy), {"reset": "1"}, follow=True)
    assert "is back to the shipped entry" in response.content.decode()
    assert not CatalogModel.objects.filter(connection=replicate).exists()
    assert catalog.resolve(replicate, WAN) == shipped()


def test_a_registered_model_has_no_shipped_entry_to_go_back_to(client_for, owner, priced_gateway):
    model = CatalogModel.objects.get(connection=priced_gateway)
    html = client_for(owner).post(edit_url(priced_gateway, model), {"reset": "1"}, follow=True).content.decode()
    assert "there is no shipped entry to go back to" in html
    assert CatalogModel.objects.filter(pk=model.pk).exists()


def test_retiring_a_snapshot_for_the_team_pins_the_alias_to_the_next_live_snapshot(owner, team):
    gateway = connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                            base_url="https://gw.example/v1", api_key="sk-1")
    alias = CatalogModel.objects.create(kind="replicate", model_id="acme", display_name="Acme",
                                        sizes=["1280x720"], durations=[4], price_per_second={"*": 0.1})
    for day in ("2026-01-01", "2026-06-01"):
        CatalogModel.objects.create(kind="replicate", model_id=f"acme-{day}", display_name=f"Acme {day}",
                                    snapshot_of="acme", sizes=["1280x720"], durations=[4],
                                    price_per_second={"*": 0.1})
    replicate = connections.connection_create(team=team, user=owner, kind="replicate", label="R", api_key="k")
    assert catalog.pinned(replicate, alias).model_id == "acme-2026-06-01"
    catalog.catalog_entry_update(connection=replicate, model_id="acme-2026-06-01", lifecycle=Lifecycle.RETIRED,
                                 lifecycle_date=datetime.date(2026, 11, 1))
    assert catalog.pinned(replicate, alias).model_id == "acme-2026-01-01"
    assert catalog.pinned(gateway, alias) is alias  # another kind's connection is untouched


@pytest.mark.parametrize("role", ["editor", "reviewer", "viewer"])
def test_other_roles_read_the_list_but_cannot_edit(request, client_for, replicate, role):
    client = client_for(request.getfixturevalue(role))
    html = client.get(catalog_url(replicate)).content.decode()
    assert "Wan 2.7 text-to-video (Replicate)" in html and "data-testid=\"edit-entry\"" not in html
    assert client.get(edit_url(replicate, shipped())).status_code == 403
    assert client.post(edit_url(replicate, shipped()), form_data(shipped(), price_per_second="9")).status_code == 403
    assert client.post(edit_url(replicate, shipped()), {"reset": "1"}).status_code == 403
    assert not CatalogModel.objects.filter(connection=replicate).exists()


def test_another_teams_user_gets_404_on_every_catalog_url(client_for, outsider, replicate):
    client = client_for(outsider)
    assert client.get(catalog_url(replicate)).status_code == 404
    assert client.get(edit_url(replicate, shipped())).status_code == 404
    assert client.post(edit_url(replicate, shipped()), form_data(shipped(), price_per_second="9")).status_code == 404
    assert client.post(edit_url(replicate, shipped()), {"reset": "1"}).status_code == 404
    assert not CatalogModel.objects.filter(connection=replicate).exists()


def test_a_model_of_another_kind_or_connection_is_not_found_on_this_connection(client_for, owner, replicate,
                                                                                priced_gateway):
    client = client_for(owner)
    assert client.get(edit_url(replicate, shipped("sora-2", kind="openai-videos"))).status_code == 404
    assert client.get(edit_url(replicate, CatalogModel.objects.get(connection=priced_gateway))).status_code == 404


@pytest.mark.parametrize(("durations", "words"), [
    ([4], "Wan 2.7 renders 4 seconds, not 6."),
    ([4, 8], "Wan 2.7 renders 4 or 8 seconds, not 6."),
    ([4, 5, 8], "Wan 2.7 renders 4, 5 or 8 seconds, not 6."),
    ([2, 3, 4, 5], "Wan 2.7 renders 2–5 seconds, not 6."),
])
def test_a_length_the_model_does_not_render_is_refused_naming_the_lengths_it_does(durations, words):
    model = CatalogModel(kind="fal", model_id="wan-2.7", display_name="Wan 2.7", sizes=["1280x720"],
                         durations=durations)
    assert model.problems_for(size="1280x720", seconds=6) == [words]  # one length read "renders 4–4 seconds"

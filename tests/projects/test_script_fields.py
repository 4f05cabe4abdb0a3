"""A Final Draft script's scene properties fill the project's own fields of the same name on import."""

from django.urls import reverse

from projects.models import FieldKind, ScriptImport
from projects.storyboard import fields
from projects.storyboard.script import parse_fdx
from tests.projects.test_script_import import upload

FDX = """<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<FinalDraft DocumentType="Script" Template="No" Version="5">
  <Content>
    <Paragraph Type="Scene Heading"><SceneProperties Length="1/8" Page="1" Title="Opening" Color="#FF0000">
      <Summary><Paragraph><Text>Anna   at dawn.</Text></Paragraph></Summary></SceneProperties>
      <Text>INT. KITCHEN - DAY</Text></Paragraph>
    <Paragraph Type="Action"><Text>Anna pours coffee.</Text></Paragraph>
    <Paragraph Type="Scene Heading"><SceneProperties Title="Harbour" Length="one"/><Text>EXT. HARBOUR - DAWN</Text></Paragraph>
    <Paragraph Type="Action"><Text>Gulls.</Text></Paragraph>
  </Content>
</FinalDraft>
"""


def test_final_drafts_scene_properties_are_read_with_each_scene():
    kitchen, harbour = parse_fdx(FDX)

    assert kitchen.properties == {"Length": "1/8", "Page": "1", "Title": "Opening", "Color": "#FF0000",
                                  "Summary": "Anna at dawn."}
    assert harbour.properties == {"Title": "Harbour", "Length": "one"}


def test_importing_fills_the_fields_whose_names_match_a_scene_property(client_for, owner, editor, project):
    summary = fields.field_create(project=project, user=owner, name="summary", kind=FieldKind.TEXT)
    colour = fields.field_create(project=project, user=owner, name="Color", kind=FieldKind.TEXT)
    length = fields.field_create(project=project, user=owner, name="Length", kind=FieldKind.NUMBER)
    lens = fields.field_create(project=project, user=owner, name="Lens", kind=FieldKind.TEXT)
    client = client_for(editor)
    client.post(reverse("projects:script_upload", args=[project.pk]),
                {"script": upload("scene.fdx", content=FDX.encode()), "split": "heading"})
    token = ScriptImport.objects.get(project=project).token

    response = client.post(reverse("projects:script_preview", args=[project.pk, token]),
                           {"mode": "append", "duration": ["4", "4"]})

    assert response.status_code == 302
    kitchen, harbour = project.scenes.order_by("position")
    # "1/8" is no number: the Length field is left empty, the scene imported all the same.
    assert kitchen.field_values == {summary.key: "Anna at dawn.", colour.key: "#FF0000"}
    assert harbour.field_values == {}  # "one" is no number either; no property named Lens
    assert lens.key not in kitchen.field_values
    assert length.key not in kitchen.field_values

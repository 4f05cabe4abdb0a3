"""The storyboard PDF as a grid: six frames a page, each with its number, title, length and notes."""

import uuid

import pypdf
import pytest
from django.urls import reverse

from generation.exports import pdf as export_pdf
from generation.models import Export, ExportStatus, PdfLayout


def _panels(count):
    return [export_pdf.BoardPanel(number=n, title=f"Scene title {n}", prompt=f"Prompt of scene {n}: the quay.",
                                  duration=n / 2, approval="Not in the cut: No approved take.", approved=False,
                                  notes=f"slow push-in {n}")
            for n in range(1, count + 1)]


def _text(path):
    reader = pypdf.PdfReader(path)
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_a_grid_of_13_scenes_takes_3_pages_and_shows_every_scene(tmp_path):
    out = tmp_path / "grid.pdf"
    export_pdf.write_storyboard(_panels(13), out, title="Harbour", subtitle="13 scenes", layout="grid")

    pages, text = _text(out)
    assert pages == 3
    for n in range(1, 14):
        assert f"{n}. Scene title {n}" in text
        assert f"Prompt of scene {n}: the quay." in text and f"Camera: slow push-in {n}" in text
    assert "6.5 s" in text  # scene 13's length


@pytest.mark.parametrize("layout", ["grid", "scenes"])
def test_a_scenes_lines_print_under_its_notes_and_a_long_exchange_goes_on_as_dots(tmp_path, layout):
    lines = tuple(export_pdf.PanelLine("Anna" if n % 2 else "Ben", "sleepy" if n == 1 else "", f"Line number {n}.")
                  for n in range(1, 13))
    panel = export_pdf.BoardPanel(number=1, title="Kitchen", prompt="Anna pours coffee.", duration=4,
                                  approval="Not in the cut: No approved take.", approved=False, dialogue=lines)
    out = tmp_path / f"{layout}.pdf"

    export_pdf.write_storyboard([panel], out, title="Harbour", subtitle="1 scene", layout=layout)

    _, text = _text(out)
    assert "Anna pours coffee." in text and "ANNA (sleepy) Line number 1." in text and "BEN Line number 2." in text
    assert "Line number 12." not in text and text.rstrip().endswith("...")  # the board is not the script


def test_one_scene_per_row_stays_three_a_page(tmp_path):
    out = tmp_path / "rows.pdf"
    export_pdf.write_storyboard(_panels(13), out, title="Harbour", subtitle="13 scenes")
    assert _text(out)[0] == 5


def start(client, project, **data):
    return client.post(reverse("generation:export_create", args=[project.pk]),
                       {"idempotency_key": str(uuid.uuid4()), **data}, HTTP_HX_REQUEST="true")


def test_the_export_form_offers_both_layouts_and_makes_the_grid_asked_for(
        client_for, editor, project, make_scene, render_take, reviewer, django_capture_on_commit_callbacks):
    from projects.review.services import take_approve

    take_approve(take=render_take(make_scene(title="Dawn", duration=1)), user=reviewer)
    for n in range(6):
        make_scene(title=f"Extra {n}")
    client = client_for(editor)
    page = client.get(reverse("generation:export_list", args=[project.pk])).content.decode()
    assert 'name="pdf_layout" value="scenes" checked' in page and 'name="pdf_layout" value="grid"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, project, pdf_layout="grid")
    assert response.status_code == 200
    export = Export.objects.get()
    assert (export.status, export.pdf_layout) == (ExportStatus.SUCCEEDED, PdfLayout.GRID)
    pages, text = _text(export.pdf.path)
    assert pages == 2 and "1. Dawn" in text and "7. Extra 5" in text
    row = client.get(reverse("generation:export_status", args=[export.pk])).content.decode()
    assert "PDF storyboard (grid)" in row and 'data-testid="export-csv"' in row


@pytest.mark.parametrize("layout", ["poster", "", "<script>"])
def test_an_unknown_layout_is_refused_in_the_page_and_books_nothing(client_for, editor, project, make_scene,
                                                                    render_take, reviewer, layout):
    from projects.review.services import take_approve

    take_approve(take=render_take(make_scene(title="Dawn", duration=1)), user=reviewer)
    response = start(client_for(editor), project, pdf_layout=layout)
    assert response.status_code == 200
    assert "Choose a layout for the storyboard PDF" in response.content.decode()
    assert not Export.objects.exists()

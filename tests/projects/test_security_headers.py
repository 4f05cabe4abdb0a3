"""Every page carries a Content-Security-Policy that stops injected script, and a Permissions-Policy."""

import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse


def directives(response) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in response["Content-Security-Policy"].split(";") if part.strip()}


def test_pages_forbid_inline_script_plugins_framing_and_foreign_forms(client_for, editor, project):
    response = client_for(editor).get(reverse("projects:project_detail", args=[project.pk]))
    csp = directives(response)
    assert csp["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert "unsafe" not in response["Content-Security-Policy"]
    assert csp["object-src"] == "object-src 'none'"
    assert csp["base-uri"] == "base-uri 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["form-action"] == "form-action 'self'"
    assert "blob:" in csp["media-src"]


def test_the_login_page_and_errors_carry_both_policies(client):
    for response in (client.get(reverse("login")), client.get("/no-such-page/")):
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert "camera=()" in response["Permissions-Policy"]
        # The microphone records a line on the studio's own pages, and nowhere it is framed or embedded.
        assert "microphone=(self)" in response["Permissions-Policy"]


def test_htmx_is_told_not_to_inject_its_inline_style_and_never_to_eval(client):
    page = client.get(reverse("login")).content.decode()
    assert '"includeIndicatorStyles":false' in page and '"allowEval":false' in page
    assert page.index('name="htmx-config"') < page.index("django_htmx/htmx")


def test_no_template_has_inline_script_event_handlers_or_style_attributes():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", re.I)
    offenders = [f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)}"
                 for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html")
                 for match in inline.finditer(path.read_text())]
    assert offenders == []

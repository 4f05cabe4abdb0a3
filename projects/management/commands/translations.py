"""Keeps locale/<lang>/LC_MESSAGES in step with the code: `manage.py translations` extracts the
strings (Django's makemessages, both the templates/Python and the JavaScript domain) into the
committed catalogs and compiles them; `--check` extracts into a scratch directory instead and
lists what the committed catalogs lack, what they leave untranslated, and a stale .mo.

Extraction needs GNU gettext (xgettext, msgmerge); running the studio does not: the compiled
.mo files are committed."""

import gettext
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command
from django.test.utils import override_settings

DOMAINS = ("django", "djangojs")
# What is not the studio's own interface: tests, benches, vendored scripts, the collected statics.
IGNORE = [".venv", "tests", "bench", "staticfiles", "static/vendor", "data", "node_modules", "locale"]
# Where the strings live, from the project's root.
SOURCES = ["projects", "generation", "studio_site", "templates", "static"]


def catalog_path(language: str, domain: str, root: Path | None = None) -> Path:
    return (root or Path(settings.LOCALE_PATHS[0])) / language / "LC_MESSAGES" / f"{domain}.po"


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list: one per plural form),
    flags. Enough of the format for what xgettext and msgmerge write."""
    entries: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    field: tuple[str, int] | None = None

    def unquote(text: str) -> str:
        return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), text[1:-1])

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if current and "msgid" in current:
                entries.append(current)
            current, field = None, None
            continue
        current = current or {"flags": set(), "msgstr": {}}
        if line.startswith("#,"):
            current["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d)\])? (".*")$', line):
            name, index, text = match.groups()
            field = (name, int(index or 0))
            if name == "msgstr":
                current["msgstr"][field[1]] = unquote(text)
            else:
                current[name] = unquote(text)
        elif line.startswith('"') and field:
            name, index = field
            if name == "msgstr":
                current["msgstr"][index] += unquote(line)
            else:
                current[name] += unquote(line)
    return [{**e, "msgstr": [e["msgstr"][i] for i in sorted(e["msgstr"])]} for e in entries if e["msgid"]]


def entry_key(entry: dict) -> tuple:
    return entry.get("msgctxt"), entry["msgid"], entry.get("msgid_plural")


@contextmanager
def _in(directory: Path):
    before = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


def extract(language: str, into: Path) -> dict[str, set]:
    """Runs makemessages over the studio's sources into `into` (a scratch directory that mirrors the
    sources through symbolic links), so the committed catalogs are left alone. Returns each domain's
    message keys."""
    root = Path(settings.BASE_DIR)
    for name in SOURCES:
        (into / name).symlink_to(root / name)
    (into / "locale").mkdir()
    with _in(into), override_settings(LOCALE_PATHS=[into / "locale"]):
        for domain in DOMAINS:
            call_command("makemessages", locale=[language], domain=domain, ignore_patterns=IGNORE,
                         symlinks=True, verbosity=0, no_obsolete=True)
    extracted = {domain: catalog_path(language, domain, into / "locale") for domain in DOMAINS}
    # makemessages writes no file for a domain without strings.
    return {domain: {entry_key(e) for e in read_po(path)} if path.exists() else set()
            for domain, path in extracted.items()}


def problems(language: str) -> list[str]:
    """Everything that would show a person English in `language`: a string the code has and the
    catalog lacks, an empty or fuzzy translation, a compiled .mo older than its .po."""
    found = []
    with tempfile.TemporaryDirectory() as scratch:
        extracted = extract(language, Path(scratch))
    for domain in DOMAINS:
        path = catalog_path(language, domain)
        if not path.exists():
            found.append(f"{path} is missing")
            continue
        entries = read_po(path)
        committed = {entry_key(e) for e in entries}
        found += [f"{domain}: not in the catalog: {key[1]!r}" for key in sorted(extracted[domain] - committed, key=str)]
        for e in entries:
            if "fuzzy" in e["flags"]:
                found.append(f"{domain}: fuzzy: {e['msgid']!r}")
            if not all(e["msgstr"]):
                found.append(f"{domain}: untranslated: {e['msgid']!r}")
        mo = path.with_suffix(".mo")
        if not mo.exists():
            found.append(f"{mo} is missing: run manage.py translations")
            continue
        with mo.open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        for e in entries:
            msgid = e["msgid"] if not e.get("msgctxt") else f"{e['msgctxt']}\x04{e['msgid']}"
            got = compiled.ngettext(msgid, e["msgid_plural"], 1) if e.get("msgid_plural") else compiled.gettext(msgid)
            if e["msgstr"] and e["msgstr"][0] and got != e["msgstr"][0] and "fuzzy" not in e["flags"]:
                found.append(f"{mo.name} is older than {path.name} ({e['msgid']!r}): run manage.py translations")
                break
    return found


class Command(BaseCommand):
    help = "Extract the interface's strings into locale/ and compile them; --check only reports what is missing."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Change nothing; fail on anything untranslated.")

    def handle(self, *args, check=False, **options):
        languages = [code for code, _ in settings.LANGUAGES if code != "en"]
        if check:
            found = [f"{language}: {p}" for language in languages for p in problems(language)]
            if found:
                raise CommandError("\n".join(found))
            self.stdout.write("Every string is translated.")
            return
        with _in(Path(settings.BASE_DIR)):
            for domain in DOMAINS:
                call_command("makemessages", locale=languages, domain=domain, ignore_patterns=IGNORE,
                             verbosity=0, no_obsolete=True)
            call_command("compilemessages", locale=languages, ignore_patterns=IGNORE[:-1], verbosity=0)
        self.stdout.write("Extracted and compiled; translate what is new (msgstr \"\"), then run this again.")

"""Reading the team's audit log in tests."""

import json

from django.core.serializers.json import DjangoJSONEncoder

from projects.models import AuditEntry

KEY = "sk-live-9f8e7d6c5b4a3928"  # no part of it may reach the log


def logged(team, action=None) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(team=team)
    return list((entries.filter(action=action) if action else entries).order_by("id"))


def only(team, action) -> AuditEntry:
    (entry,) = logged(team, action)
    return entry


def keeps_no_secret(entry: AuditEntry, secret: str) -> bool:
    text = " ".join([json.dumps(entry.details, cls=DjangoJSONEncoder), entry.target_label, entry.actor_name])
    parts = [part for part in (secret, secret[:12], secret[-8:], secret[8:16]) if len(part) >= 6]
    return all(part not in text for part in parts)

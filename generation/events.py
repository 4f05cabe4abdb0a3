"""Domain events: how a lower layer tells higher ones that something happened without importing them.

The list is short on purpose; everything else is a direct call downwards (see docs/architecture.md).
Receivers are connected in the apps' `ready()`, the one place Django guarantees models are loaded.

| event                     | sent by                                          | received by                               |
|---------------------------|--------------------------------------------------|-------------------------------------------|
| `take_settled(render)`    | `Render.advance` / `Render.mark_failed`, once,   | `generation.spend.budget.on_take_settled` |
|                           | by the worker that moved the take to succeeded,  | (give back an estimate nobody billed);    |
|                           | failed or canceled                               | `projects.activity.feed.on_take_settled`  |
|                           |                                                  | (feed line, the author's render digest)   |
"""

from django.dispatch import Signal

take_settled = Signal()  # keyword: render

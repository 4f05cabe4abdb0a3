"""{% take_state take scene as state %}: a take's state in the board's words (selectors.storyboard.take_state)."""

from django import template

from projects.selectors.storyboard import TakeState
from projects.selectors.storyboard import take_state as state_of

register = template.Library()


@register.simple_tag
def take_state(take, scene) -> TakeState:
    return state_of(take=take, scene=scene)

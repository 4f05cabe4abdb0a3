"""What a guest page shows of the team's words."""

from django import template

from projects.review.guest_links import hide_mentions

register = template.Library()


@register.filter
def without_team_mentions(text, usernames):
    """{{ comment.body|without_team_mentions:team_usernames }}: `@rita` reads `@teammate`."""
    return hide_mentions(str(text), usernames or ())

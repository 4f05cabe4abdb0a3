"""A scene's dialogue as data: its lines (services), how they are woven into what a take sends (text)
and the side panel's section that edits them (views)."""

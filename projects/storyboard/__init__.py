"""Storyboard: projects and their ordered scenes, the board pages, and importing or exporting a script."""

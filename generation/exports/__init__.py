"""Exports of the approved cut: the stitched film, the storyboard PDF, edit decision lists and
markers, and the signed delivery package."""

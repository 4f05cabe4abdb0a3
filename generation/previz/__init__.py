"""Previz: the local provider's animatic (a real H.264/AAC MP4 drawn from the scene) and the
worker side of its jobs (draw, sign, thumbnail; requeue the stalled)."""

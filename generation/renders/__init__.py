"""Renders: booking takes (one or a batch) and running them through a provider; the model
catalog and its prices; re-targeting scenes and warning of models that retire."""

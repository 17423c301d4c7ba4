"""Hypothesis profiles: ``--hypothesis-profile=fuzz`` runs the config fuzzer at length."""

from hypothesis import settings

settings.register_profile("fuzz", max_examples=2_000)

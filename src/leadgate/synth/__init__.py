"""Realistic synthetic B2B funnel data with known ground truth (``leadgate synth``).

``generate(n_leads, seed, out_dir)`` writes accounts.csv, leads.csv, events.<format>,
outcomes.csv and truth.csv; docs/synthetic-data.md describes every column and the model behind
them. The modules follow the generation order: catalogs -> accounts -> leads -> calendar ->
events -> activity -> outcomes -> writers, driven by generate.
"""

from __future__ import annotations

from leadgate.synth.generate import DEFAULT_AS_OF, SynthError, SynthResult, generate

__all__ = ["DEFAULT_AS_OF", "SynthError", "SynthResult", "generate"]

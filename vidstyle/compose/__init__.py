"""Per-frame composition math: temporal blending and face regions (layer 2; no pipeline imports)."""

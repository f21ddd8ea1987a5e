"""Optical flow: estimators, warping and the consistency mask (layer 1, a pure library)."""

"""The work Item, the Stage protocol, the stages, the runner and the Python API (layer 3)."""

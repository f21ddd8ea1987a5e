"""Frame sources and sinks, the encoder, audio pass-through and synthetic clips (layer 1, a pure library)."""

"""Face detection (MTCNN), tracking, masks, alignment and the identity network (layer 1, a pure library)."""

"""Training style networks (``vidstyle train``).

config       the recipe (TrainConfig; YAML, CLI overrides)
vgg          the VGG16 loss network (up to relu4_3)
losses       content / Gram style / TV / temporal / identity terms as pure functions
data         content listing, style images, per-step batches (pure functions of seed and step)
temporal     synthetic frame pairs with a known motion for the temporal loss
faces_cache  MTCNN faces of the content images, detected once, cached as JSON
checkpoint   resumable checkpoints (safetensors: net, Adam state, RNG states)
trainer      the loop, samples, final model; card: markdown model cards
"""

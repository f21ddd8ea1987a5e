"""Training style networks (``vidstyle train``).

config       the recipe (TrainConfig; YAML, CLI overrides)
data         content listing, style images, per-step batches (pure functions of seed and step)
batch        TrainBatch: one step's typed inputs (crops, styles, face targets, frame pairs)
temporal     synthetic frame pairs with a known motion for the temporal loss
faces_cache  MTCNN faces of the content images, detected once, cached as JSON
targets      the style images and their Gram matrices
network      the network to train: fresh, warm-started (init) or extended (extend)
loss_nets    the frozen loss networks (VGG16, the face descriptor network)
precision    device, mixed precision, memory format
schedule     the learning rate as a pure function of the step
step         one step's weighted loss terms and the optimizer update
losses       training-only loss terms (temporal); the perceptual ones are in vidstyle.perceptual
history      the loss history (windowed records, final losses)
samples      the sample grid's content images and their stylizations; report: grid and loss curve
checkpoint   resumable checkpoints (safetensors: net, Adam state, RNG states)
meta         the trained model's metadata (recipe, machine, warm-start history); card: model cards
trainer      Trainer: wires the above and runs the loop
extend       growing a multi-style network by new styles; bundle: ship a model as a bundled style
"""

"""Quality mode: style transfer by optimization, any painting, no training.

Gatys et al. 2016 per image (:mod:`.gatys`, :mod:`.objective`, :mod:`.solver`), Ruder et al. 2016
per video (:mod:`.video`), run as a pipeline stage (:mod:`.stage`) so decoding and encoding are the
pipeline's; :mod:`.run` is the entry point (``OptimizePipeline``, ``optimize_file``).
"""

"""Perceptual features and losses shared by ``train`` and ``optimize``: the VGG16 loss network
(:mod:`.vgg`) and the Gram/content/TV/identity terms (:mod:`.losses`)."""

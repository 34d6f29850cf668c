"""Training recipes, one per paper: the one source of the registry's defaults and of the reproductions.

``gaitbnn train NAME`` takes its model's recipe (``ModelSpec.training``) for every option not given;
``gaitbnn reproduce PAPER`` starts from the same recipe (``experiments.merge_settings``).
"""

# BiPedalNet Sec. 2.3: Adam on the latent weights, learning rate 1e-3 reduced when validation accuracy
# plateaus, cross-entropy; batch and epochs are this project's (the paper gives none).
BIPEDALNET = dict(optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=30)

# BtCNN thesis Sec. 4.3.2 / 5.3: RMSProp (rho 0.9), batch 400, 10 epochs, learning rates 1e-4, 1e-5 and
# 1e-6 (1e-4, the best, is the default of a single run).
BTCNN = dict(optimizer="rmsprop", rho=0.9, learning_rate=1e-4, learning_rates=[1e-4, 1e-5, 1e-6], batch_size=400,
             epochs=10)

# L-ResNet-50: the paper gives no training setting; Adam 1e-3 as the project's other identification models.
LRESNET = dict(optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=10)

# MM'19: batch 20 pairs (the phones' setting); optimizer, learning rate and epochs are this project's.
SIAMESE = dict(optimizer="adam", learning_rate=1e-3, batch_size=20, epochs=30)

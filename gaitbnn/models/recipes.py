"""Training recipes, one per paper: the one source of the registry's defaults and of the reproductions.

``gaitbnn train NAME`` takes its model's recipe (``ModelSpec.training``) for every option not given;
``gaitbnn reproduce PAPER`` starts from the same recipe (``experiments.merge_settings``).
"""
from __future__ import annotations

from gaitbnn.errors import lookup

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

# Open-set verification (issue 28): a metric loss over the training people ("am_softmax", an additive-margin
# softmax, or MM'19's "contrastive"), Adam with cosine decay, the best gait recipe's overlapping windows and
# augmentation (``data.verification``, ``training.metric``).
VERIFICATION = dict(optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=30, loss="am_softmax",
                    rotation=0.3, shift=0.1, scale=0.1)

# Gait identification, the binary models' gap to float (issue 16, docs/bipedalnet.md "Closing the gap"). ``paper`` is
# BiPedalNet Sec. 2.3 as above; ``best`` adds what the ablation (``GAIT_ABLATION``) kept. Keys:
# ``train_stride_seconds`` cuts overlapping training windows (``data.dataset``); ``rotation`` (radians),
# ``shift`` (fraction of the window) and ``scale`` augment (``training.augment``); ``teacher`` distils
# (``training.distill``; ``alpha``, ``temperature``); ``schedule`` "cosine" and ``epochs_factor`` lengthen;
# ``optimizer`` "bop" flips the binary weights with Bop.
GAIT_DATA_KEYS = ("train_stride_seconds",)  # the ingredients the data loader takes; the rest go to training
OVERLAP = dict(train_stride_seconds=0.2)
AUGMENTATION = dict(rotation=0.3, shift=0.1, scale=0.1)
RECIPE_HELP = ("Gait models: 'paper' (BiPedalNet Sec. 2.3) or 'best' (overlapping training windows and phone-in-a-"
               "pocket augmentation; docs/bipedalnet.md 'Closing the gap').")
GAIT_RECIPES = {
    "paper": dict(name="paper"),
    "best": dict(name="best", **OVERLAP, **AUGMENTATION),
}

# Each step adds its ingredients to the kept steps before it; a step not kept is measured and then dropped.
# ``model`` (a step's only non-training ingredient) trains another registered BiPedalNet variant from that step on.
GAIT_ABLATION = (
    ("paper recipe (Sec. 2.3)", {}, True),
    ("+ overlapping training windows, every 0.2 s", OVERLAP, True),
    ("+ augmentation: axis rotation +-0.3 rad, time shift +-10%, amplitude +-10%", AUGMENTATION, True),
    ("+ distillation from float IDNet (T 4, alpha 0.5)", dict(teacher="idnet"), False),
    ("+ 2x epochs, cosine decay", dict(schedule="cosine", epochs_factor=2), False),
    ("+ Bop for the binary weights (gamma 1e-4, threshold 1e-8)", dict(optimizer="bop"), False),
    ("+ a learned scale per class on the logits (bipedalnet-scaled-logits)", dict(model="bipedalnet-scaled-logits"),
     False),
    ("+ full-precision first and last layers (bipedalnet-float-ends)", dict(model="bipedalnet-float-ends"), True),
    ("+ real shortcuts around conv2 and conv3 (bipedalnet-shortcuts)", dict(model="bipedalnet-shortcuts"), True),
)


def gait_recipe(name: str) -> dict:
    """The named gait recipe (``GAIT_RECIPES``); an unknown name is an input error."""
    return dict(lookup(GAIT_RECIPES, name, "recipe"))


def recorded(ingredients: dict) -> dict:
    """How a run's ``config.json`` records its training ingredients (a teacher run as its path)."""
    return {k: str(v) if k == "teacher" else v for k, v in ingredients.items()}


def recipe_epochs(epochs: int, ingredients: dict) -> int:
    """The epochs a recipe trains for: ``epochs`` times its ``epochs_factor``."""
    return int(epochs * ingredients.get("epochs_factor", 1))


def split_recipe(recipe: dict) -> tuple:
    """(data loader options, training ingredients) of a gait ``recipe``."""
    data = {k: v for k, v in recipe.items() if k in GAIT_DATA_KEYS}
    return data, {k: v for k, v in recipe.items() if k not in GAIT_DATA_KEYS}

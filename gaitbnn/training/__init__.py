"""Training and evaluation of registered models on a ``Dataset``."""

"""Model constructors, one module per paper, and the registry the CLI iterates over.

The registry's names are read from ``models.registry`` on first use, so that ``models.recipes`` (plain
settings) can be imported without TensorFlow (the CLI's start-up).
"""
_REGISTRY_NAMES = ("ACTIVITY", "AUTH", "GAIT", "GEI", "VERIFY", "build", "count_flops", "count_layer_params",
                   "count_params", "describe", "get_spec", "names", "reference_counts")


def __getattr__(name: str) -> object:
    if name in _REGISTRY_NAMES:
        from gaitbnn.models import registry  # lazy: the registry builds models with TensorFlow and Larq

        return getattr(registry, name)
    raise AttributeError(f"module 'gaitbnn.models' has no attribute '{name}'")

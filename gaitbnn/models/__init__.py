"""Model constructors, one module per paper, and the registry the CLI iterates over."""
from gaitbnn.models.registry import (  # noqa: F401
    ACTIVITY,
    AUTH,
    GAIT,
    GEI,
    build,
    count_flops,
    count_layer_params,
    count_params,
    get_spec,
    names,
    reference_counts,
)

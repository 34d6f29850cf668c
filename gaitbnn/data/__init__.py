"""Data sources (one module per dataset, plus synthetic) and the ``Dataset`` they feed."""
from gaitbnn.data.dataset import Dataset, is_synthetic, load  # noqa: F401

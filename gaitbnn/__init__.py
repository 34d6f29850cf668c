"""gaitbnn: binarized neural networks for on-device gait and activity recognition.

Larq 0.14 needs Keras 2, so the package selects ``tf_keras`` here, in the one
place every ``gaitbnn`` import passes through, before TensorFlow is imported.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import warnings

# tf_keras's advice to leave HDF5: gaitbnn saves one .h5 file per run on purpose (atomic rename).
warnings.filterwarnings("ignore", message="You are saving your model as an HDF5 file")

__version__ = "0.1.0"

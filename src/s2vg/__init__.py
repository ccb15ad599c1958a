"""s2vg: monocular video to stereoscopic and spatial video, training-free.

Importing the package is cheap: no model library (diffusers, transformers, gsplat)
is imported until a stage that needs it runs.
"""

from s2vg.errors import InputError, MissingWeightsError, OptionError, S2VGError

__version__ = "0.1.0"

__all__ = ["S2VGError", "InputError", "OptionError", "MissingWeightsError", "__version__"]

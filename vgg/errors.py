"""The library's error types: each a ValueError whose message says what was wrong and what to do."""


class SpecError(ValueError):
    """A configuration spec that cannot describe a VGG (bad token, width, too many pools)."""


class InputSizeError(ValueError):
    """An input too small for the network's pools (each 2x2 pool halves the side)."""


class ImageError(ValueError):
    """An image that cannot be loaded or used (not an image, truncated, too large, too small)."""


class WeightsError(ValueError):
    """A checkpoint that cannot be downloaded, read, or loaded into the model."""


class DeviceError(ValueError):
    """A device that was asked for by name but is absent (no CUDA GPU, no Apple MPS), or a name torch lacks."""


class ResourceError(ValueError):
    """A network or input whose estimated memory is over the configured limit (see ``vgg.guards``)."""

"""The library's error types. Every one is a ``VGGError``, itself a ``ValueError``, whose message says
what was wrong and what to do: the app and the command line catch ``VGGError`` and show the message."""


class VGGError(ValueError):
    """The base of every error the library raises on purpose, with a message a user can act on."""


class SpecError(VGGError):
    """A configuration spec that cannot describe a VGG (bad token, width, too many pools), or a contradiction
    such as ``vgg16_bn`` without batch norm."""


class InputSizeError(VGGError):
    """An input too small for the network's pools (each 2x2 pool halves the side)."""


class ImageError(VGGError):
    """An image that cannot be loaded or used (not an image, truncated, too large, too small)."""


class WeightsError(VGGError):
    """A checkpoint that cannot be downloaded, read, or loaded into the model; or weights that cannot do what
    was asked (features-only weights asked to classify)."""


class DeviceError(VGGError):
    """A device that was asked for by name but is absent (no CUDA GPU, no Apple MPS), or a name torch lacks."""


class ResourceError(VGGError):
    """A network or input whose estimated memory is over the configured limit (see ``vgg.analysis.guards``)."""


class GraphvizNotInstalledError(VGGError, RuntimeError):
    """SVG export asked for on a machine without Graphviz's ``dot`` program."""

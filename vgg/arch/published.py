"""Published facts, kept in one place so code and tests are checked against the same numbers.

Sources: torchvision's ``models/vgg.py`` (weights URLs, num_params, ``_ops`` in GMACs at 224x224,
ImageNet-1K acc@1/acc@5 of the IMAGENET1K_V1 weights) and Simonyan & Zisserman (2014), Table 2.
"""

from __future__ import annotations

from dataclasses import dataclass

WEIGHTS_BASE_URL = "https://download.pytorch.org/models/"

# What torchvision's ImageClassification preset does for these weights.
RESIZE_SIZE = 256
CROP_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MIN_INPUT_SIZE = 32


@dataclass(frozen=True)
class PublishedVariant:
    """One of torchvision's eight ImageNet checkpoints and the numbers published with it."""

    name: str  # torchvision's builder name, "vgg16_bn"
    config: str  # the paper's letter, "D"
    batch_norm: bool
    file_name: str  # its hash prefix is what torch.hub checks ("-397923af")
    num_params: int
    gmacs: float  # torchvision's "_ops" (labelled GFLOPS in its docs; they count multiply-adds)
    acc1: float
    acc5: float
    file_size_mb: float

    @property
    def url(self) -> str:
        return WEIGHTS_BASE_URL + self.file_name


PUBLISHED: dict[str, PublishedVariant] = {v.name: v for v in (
    PublishedVariant("vgg11", "A", False, "vgg11-8a719046.pth", 132_863_336, 7.609, 69.020, 88.628, 506.840),
    PublishedVariant("vgg11_bn", "A", True, "vgg11_bn-6002323d.pth", 132_868_840, 7.609, 70.370, 89.810, 506.881),
    PublishedVariant("vgg13", "B", False, "vgg13-19584684.pth", 133_047_848, 11.308, 69.928, 89.246, 507.545),
    PublishedVariant("vgg13_bn", "B", True, "vgg13_bn-abd245e5.pth", 133_053_736, 11.308, 71.586, 90.374, 507.590),
    PublishedVariant("vgg16", "D", False, "vgg16-397923af.pth", 138_357_544, 15.470, 71.592, 90.382, 527.796),
    PublishedVariant("vgg16_bn", "D", True, "vgg16_bn-6c64b313.pth", 138_365_992, 15.470, 73.360, 91.516, 527.866),
    PublishedVariant("vgg19", "E", False, "vgg19-dcbb9e9d.pth", 143_667_240, 19.632, 72.376, 90.876, 548.051),
    PublishedVariant("vgg19_bn", "E", True, "vgg19_bn-c79401a0.pth", 143_678_248, 19.632, 74.218, 91.842, 548.143),
)}

# The paper's Table 2: number of parameters, in millions, per configuration.
PAPER_PARAMS_MILLIONS: dict[str, int] = {"A": 133, "A-LRN": 133, "B": 133, "C": 134, "D": 138, "E": 144}

# The paper's Table 1 rows, as printed (top to bottom); generated tables are tested against them.
PAPER_TABLE1_WEIGHT_LAYERS: dict[str, int] = {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}

"""torchvision's weights enums: ``VGG11_Weights`` ... ``VGG19_BN_Weights``, each member a ``Weights``
(its URL, the preprocessing it expects, its published numbers), with ``DEFAULT`` and ``verify``.

The numbers are the ones in ``vgg.arch.published`` (one place for published facts); this module
only arranges them as torchvision does, so code written against torchvision reads the same here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from vgg.arch.classes import imagenet_classes
from vgg.arch.published import PUBLISHED, PublishedVariant
from vgg.arch.transforms import ImageClassification
from vgg.arch.weights import StateDict, load_state_dict
from vgg.errors import WeightsError

RECIPE = "https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg"
FEATURES_URL = "https://download.pytorch.org/models/vgg16_features-amdegroot-88682ab5.pth"
FEATURES_MEAN = (0.48235, 0.45882, 0.40784)  # the paper's own standardisation: mean pixel, values in 0..255
FEATURES_STD = (1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0)


@dataclass(frozen=True, eq=False)  # compared by identity: two members are the same weights only if they are one
class Weights:
    """One checkpoint: where it is, how its input must be prepared, and what was published with it."""

    url: str
    transforms: Callable[..., Any]
    meta: Mapping[str, Any] = field(default_factory=dict)

    def get_state_dict(self, *, progress: bool = True) -> StateDict:
        """The state_dict, downloaded once into torch's hub cache with its hash checked."""
        return load_state_dict(self.url, progress=progress)


class WeightsEnum(Enum):
    """The members of a builder's weights; ``.url``, ``.meta`` and ``.transforms()`` read the member's Weights."""

    @classmethod
    def verify(cls, obj: Any) -> Any:
        """A member from a member, its name ("IMAGENET1K_V1", "VGG16_Weights.DEFAULT"), or None (None)."""
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj.strip().replace(cls.__name__ + ".", "")
            if name in cls.__members__:
                return cls.__members__[name]
            raise WeightsError(f"{cls.__name__} has no weights named {obj!r}: use one of "
                               f"{', '.join(cls.__members__)} (or None for random weights).")
        raise WeightsError(f"Invalid weights for {cls.__name__}: expected a {cls.__name__} member, its name or None, "
                           f"got {type(obj).__name__}.")

    def get_state_dict(self, *, progress: bool = True) -> StateDict:
        return self.value.get_state_dict(progress=progress)

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.value.meta

    @property
    def transforms(self) -> Callable[..., Any]:
        return self.value.transforms

    @property
    def can_classify(self) -> bool:
        """False for features-only weights (``meta["categories"]`` is None): their classifier holds no values."""
        return self.meta.get("categories") is not None

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


def _common_meta() -> dict[str, Any]:
    return {"min_size": (32, 32), "categories": list(imagenet_classes()), "recipe": RECIPE,
            "_docs": "These weights were trained from scratch by using a simplified training recipe."}


def _imagenet(variant: PublishedVariant) -> Weights:
    return Weights(
        url=variant.url,
        transforms=functools.partial(ImageClassification, crop_size=224),
        meta={**_common_meta(), "num_params": variant.num_params,
              "_metrics": {"ImageNet-1K": {"acc@1": variant.acc1, "acc@5": variant.acc5}},
              "_ops": variant.gmacs, "_file_size": variant.file_size_mb},
    )


_VGG16_FEATURES = Weights(
    url=FEATURES_URL,  # ported from https://github.com/amdegroot/ssd.pytorch/
    transforms=functools.partial(ImageClassification, crop_size=224, mean=FEATURES_MEAN, std=FEATURES_STD),
    meta={**_common_meta(), "num_params": 138_357_544, "categories": None,
          "recipe": "https://github.com/amdegroot/ssd.pytorch#training-ssd",
          "_metrics": {"ImageNet-1K": {"acc@1": math.nan, "acc@5": math.nan}},
          "_ops": 15.47, "_file_size": 527.802,
          "_docs": "These weights can't be used for classification because they are missing values in the "
                   "`classifier` module. Only the `features` module has valid values and can be used for feature "
                   "extraction. The weights were trained using the original input standardization method as "
                   "described in the paper."},
)


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet(PUBLISHED["vgg11"])
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet(PUBLISHED["vgg11_bn"])
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet(PUBLISHED["vgg13"])
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet(PUBLISHED["vgg13_bn"])
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet(PUBLISHED["vgg16"])
    IMAGENET1K_FEATURES = _VGG16_FEATURES
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet(PUBLISHED["vgg16_bn"])
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet(PUBLISHED["vgg19"])
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet(PUBLISHED["vgg19_bn"])
    DEFAULT = IMAGENET1K_V1


# Builder name -> its weights enum, as torchvision pairs them.
WEIGHTS_OF: dict[str, type[WeightsEnum]] = {
    "vgg11": VGG11_Weights, "vgg11_bn": VGG11_BN_Weights, "vgg13": VGG13_Weights, "vgg13_bn": VGG13_BN_Weights,
    "vgg16": VGG16_Weights, "vgg16_bn": VGG16_BN_Weights, "vgg19": VGG19_Weights, "vgg19_bn": VGG19_BN_Weights,
}


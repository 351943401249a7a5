"""torchvision's models/vgg.py, pinned as data (torchvision cannot be imported beside the pinned torch):
its cfgs, the state_dict layout of all eight builders, the weights enums' URLs, meta and transforms; and
the one value per network that makes a torchvision name mean what it says."""

import math
import warnings

import pytest
import torch
from PIL import Image

import vgg
from vgg.arch import pretrained

# torchvision's cfgs, copied from its source.
TORCHVISION_CFGS = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}

# Where torchvision's Conv2d modules sit in `features`, and how many modules `features` has.
CONV_INDICES = {
    "vgg11": ([0, 3, 6, 8, 11, 13, 16, 18], 21),
    "vgg11_bn": ([0, 4, 8, 11, 15, 18, 22, 25], 29),
    "vgg13": ([0, 2, 5, 7, 10, 12, 15, 17, 20, 22], 25),
    "vgg13_bn": ([0, 3, 7, 10, 14, 17, 21, 24, 28, 31], 35),
    "vgg16": ([0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28], 31),
    "vgg16_bn": ([0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40], 44),
    "vgg19": ([0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34], 37),
    "vgg19_bn": ([0, 3, 7, 10, 14, 17, 20, 23, 27, 30, 33, 36, 40, 43, 46, 49], 53),
}
LETTER = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}

# torchvision's weights: file names (hash prefixes), num_params, _ops, _file_size, acc@1, acc@5.
WEIGHTS = {
    "vgg11": ("vgg11-8a719046.pth", 132863336, 7.609, 506.84, 69.02, 88.628),
    "vgg11_bn": ("vgg11_bn-6002323d.pth", 132868840, 7.609, 506.881, 70.37, 89.81),
    "vgg13": ("vgg13-19584684.pth", 133047848, 11.308, 507.545, 69.928, 89.246),
    "vgg13_bn": ("vgg13_bn-abd245e5.pth", 133053736, 11.308, 507.59, 71.586, 90.374),
    "vgg16": ("vgg16-397923af.pth", 138357544, 15.47, 527.796, 71.592, 90.382),
    "vgg16_bn": ("vgg16_bn-6c64b313.pth", 138365992, 15.47, 527.866, 73.36, 91.516),
    "vgg19": ("vgg19-dcbb9e9d.pth", 143667240, 19.632, 548.051, 72.376, 90.876),
    "vgg19_bn": ("vgg19_bn-c79401a0.pth", 143678248, 19.632, 548.143, 74.218, 91.842),
}
ENUMS = {"vgg11": vgg.VGG11_Weights, "vgg11_bn": vgg.VGG11_BN_Weights, "vgg13": vgg.VGG13_Weights,
         "vgg13_bn": vgg.VGG13_BN_Weights, "vgg16": vgg.VGG16_Weights, "vgg16_bn": vgg.VGG16_BN_Weights,
         "vgg19": vgg.VGG19_Weights, "vgg19_bn": vgg.VGG19_BN_Weights}


def expected_layout(name: str) -> dict[str, tuple[int, ...]]:
    """torchvision's state_dict keys and shapes, written from the pinned indices and cfgs."""
    indices, _ = CONV_INDICES[name]
    widths = [v for v in TORCHVISION_CFGS[LETTER[name.removesuffix("_bn")]] if v != "M"]
    layout: dict[str, tuple[int, ...]] = {}
    in_channels = 3
    for index, width in zip(indices, widths, strict=True):
        layout[f"features.{index}.weight"] = (width, in_channels, 3, 3)
        layout[f"features.{index}.bias"] = (width,)
        if name.endswith("_bn"):
            bn = f"features.{index + 1}"
            layout |= {f"{bn}.weight": (width,), f"{bn}.bias": (width,), f"{bn}.running_mean": (width,),
                       f"{bn}.running_var": (width,), f"{bn}.num_batches_tracked": ()}
        in_channels = width
    layout |= {"classifier.0.weight": (4096, 25088), "classifier.0.bias": (4096,),
               "classifier.3.weight": (4096, 4096), "classifier.3.bias": (4096,),
               "classifier.6.weight": (1000, 4096), "classifier.6.bias": (1000,)}
    return layout


def test_cfgs_are_torchvisions():
    assert vgg.cfgs == TORCHVISION_CFGS
    for letter, cfg in TORCHVISION_CFGS.items():
        assert vgg.CONFIGS[letter].to_list() == cfg  # the typed specs say the same


@pytest.mark.parametrize("name", list(CONV_INDICES))
def test_state_dict_keys_and_shapes_are_torchvisions(name):
    with torch.device("meta"):  # the layout without the memory
        model = getattr(vgg, name)()
    layout = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert list(layout) == list(expected_layout(name))  # the same keys in the same order
    assert layout == expected_layout(name)
    assert len(model.features) == CONV_INDICES[name][1]
    assert sum(p.numel() for p in model.parameters()) == WEIGHTS[name][1]


def test_make_layers_modules_are_torchvisions():
    features = vgg.make_layers(vgg.cfgs["A"], batch_norm=True)
    assert [type(m).__name__ for m in features[:5]] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Conv2d"]
    conv, relu, pool = features[0], features[2], features[3]
    assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 3), (1, 1), (1, 1))
    assert relu.inplace and (pool.kernel_size, pool.stride) == (2, 2)
    assert isinstance(vgg.make_layers(vgg.cfgs["D"]), torch.nn.Sequential)


def test_make_layers_takes_the_papers_extra_layers():
    lrn = vgg.make_layers(vgg.CONFIGS["A-LRN"])
    assert isinstance(lrn[2], torch.nn.LocalResponseNorm) and lrn[2].k == 2
    one_by_one = vgg.make_layers("64 M conv1-128 M")
    assert one_by_one[3].kernel_size == (1, 1) and one_by_one[3].padding == (0, 0)


def test_vgg_signature_is_torchvisions():
    with torch.device("meta"):
        model = vgg.VGG(vgg.make_layers(vgg.cfgs["E"], batch_norm=True), 10, False, 0.2)
    assert model.classifier[6].out_features == 10 and model.classifier[2].p == 0.2
    assert model.avgpool.output_size == (7, 7) and model.classifier[0].in_features == 25088
    assert model.network == vgg.Network.resolve("vgg19_bn", num_classes=10)


@pytest.mark.parametrize("name", ["vgg11_bn", pytest.param("vgg19_bn", marks=pytest.mark.slow)])
def test_make_layers_and_vgg_equal_the_builders_bit_for_bit(name):
    letter, batch_norm = vgg.VARIANTS[name]
    torch.manual_seed(7)
    by_hand = vgg.VGG(vgg.make_layers(vgg.cfgs[letter], batch_norm=batch_norm))
    torch.manual_seed(7)
    built = getattr(vgg, name)()
    torch.manual_seed(7)
    generic = vgg.build(name)
    for other in (built, generic):
        for (key, mine), theirs in zip(by_hand.state_dict().items(), other.state_dict().values(), strict=True):
            assert torch.equal(mine, theirs), key
    x = torch.randn(1, 3, 64, 80)
    with torch.no_grad():
        assert torch.equal(by_hand.eval()(x), built.eval()(x))


def test_a_mini_vgg_is_made_by_the_same_path():
    features = vgg.make_layers([16, "M", 32, "M"], batch_norm=True)
    model = vgg.VGG(features, num_classes=10, hidden_features=256, pooled_size=1)
    assert model.classifier[0].in_features == 32 and model.classifier[3].in_features == 256
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    network = vgg.Network.resolve([16, "M", 32, "M"], batch_norm=True, num_classes=10, hidden_features=256,
                                  pooled_size=1)
    assert model.network == network and network.label == "custom-BN"
    report = vgg.analyze(network, input_size=(8, 8))
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.layer("fc6").output_shape == (1, 256) and report.layer("avgpool").output_shape == (1, 32, 1, 1)


def test_structure_is_read_from_the_modules():
    with torch.device("meta"):
        model = vgg.VGG(vgg.make_layers(vgg.cfgs["D"], batch_norm=True))
    infos = {info.path: info for info in vgg.layer_infos(model)}
    assert infos["features.40"].paper_name == "conv5_3" and infos["features.40"].kind is vgg.LayerKind.CONV
    assert infos["features.43"].paper_name == "pool5" and infos["avgpool"].stage == 6
    assert infos["classifier.6"].paper_name == "fc8" and infos["classifier.6"].kind == "fc"
    assert model.layer_infos == tuple(infos.values())
    assert model.spec == vgg.CONFIGS["D"] and model.batch_norm


@pytest.mark.parametrize("name", list(WEIGHTS))
def test_weights_enums_carry_torchvisions_urls_and_meta(name):
    enum = ENUMS[name]
    file_name, num_params, ops, file_size, acc1, acc5 = WEIGHTS[name]
    member = enum.IMAGENET1K_V1
    assert enum.DEFAULT is member and enum.verify("DEFAULT") is member and enum.verify(None) is None
    assert enum.verify("IMAGENET1K_V1") is member and enum.verify(f"{enum.__name__}.IMAGENET1K_V1") is member
    assert enum.verify(member) is member
    assert member.url == "https://download.pytorch.org/models/" + file_name
    meta = member.meta
    assert (meta["num_params"], meta["_ops"], meta["_file_size"]) == (num_params, ops, file_size)
    assert meta["_metrics"] == {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}}
    assert meta["min_size"] == (32, 32) and len(meta["categories"]) == 1000 and meta["categories"][0] == "tench"
    assert meta["recipe"] == "https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg"


def test_verify_refuses_what_is_not_a_member():
    with pytest.raises(vgg.WeightsError, match="IMAGENET1K_V1"):
        vgg.VGG16_Weights.verify("IMAGENET1K_V2")
    with pytest.raises(vgg.WeightsError, match="VGG16_Weights"):
        vgg.VGG16_Weights.verify(vgg.VGG19_Weights.DEFAULT)


def test_transforms_numbers_are_torchvisions():
    transform = vgg.VGG16_Weights.IMAGENET1K_V1.transforms()
    assert (transform.crop_size, transform.resize_size) == ([224], [256])
    assert transform.mean == [0.485, 0.456, 0.406] and transform.std == [0.229, 0.224, 0.225]
    features = vgg.VGG16_Weights.IMAGENET1K_FEATURES.transforms()
    assert features.mean == [0.48235, 0.45882, 0.40784] and features.std == [1 / 255] * 3


def test_transforms_equal_the_preprocessing_of_crop_mode():
    image = Image.effect_mandelbrot((300, 240), (-2, -1.2, 1, 1.2), 60).convert("RGB")
    out = vgg.VGG16_Weights.DEFAULT.transforms()(image)
    assert out.shape == (3, 224, 224) and torch.equal(out, vgg.preprocess(image)[0])


def test_features_only_weights():
    member = vgg.VGG16_Weights.IMAGENET1K_FEATURES
    assert member.url == "https://download.pytorch.org/models/vgg16_features-amdegroot-88682ab5.pth"
    assert member.meta["categories"] is None and math.isnan(member.meta["_metrics"]["ImageNet-1K"]["acc@1"])
    assert (member.meta["num_params"], member.meta["_ops"], member.meta["_file_size"]) == (138357544, 15.47, 527.802)


@pytest.fixture
def served_weights(monkeypatch):
    """Every Weights downloads a random state_dict of its builder instead (no network here)."""
    def get_state_dict(self, *, progress=True):
        name = "vgg16" if "features" in self.url else self.url.rsplit("/", 1)[1].split("-")[0]
        with torch.device("meta"):
            layout = vgg.build(name).state_dict()
        return {key: torch.zeros(value.shape, dtype=value.dtype) for key, value in layout.items()}
    monkeypatch.setattr(pretrained.Weights, "get_state_dict", get_state_dict)


def test_predicting_with_features_only_weights_is_refused_in_words(served_weights):
    model = vgg.vgg16(weights=vgg.VGG16_Weights.IMAGENET1K_FEATURES).eval()
    x = torch.randn(1, 3, 32, 32)
    assert model.features(x).shape == (1, 512, 1, 1)  # feature extraction is what they are for
    with pytest.raises(vgg.WeightsError, match="features-only weights"):
        model(x)
    with pytest.raises(vgg.WeightsError, match="cannot predict"):
        vgg.forward_with_features(model, x)


def test_builders_take_a_member_its_name_or_default(served_weights):
    for weights in (vgg.VGG11_Weights.IMAGENET1K_V1, "IMAGENET1K_V1", "DEFAULT"):
        model = vgg.vgg11(weights=weights)
        assert model.weights is vgg.VGG11_Weights.IMAGENET1K_V1
    with pytest.raises(vgg.WeightsError, match="num_classes=1000"):
        vgg.vgg11(weights="DEFAULT", num_classes=10)


def test_pretrained_true_is_the_default_weights_with_a_deprecation_warning(served_weights):
    with pytest.warns(DeprecationWarning, match="'pretrained' is deprecated"):
        model = vgg.vgg13(pretrained=True)
    assert model.weights is vgg.VGG13_Weights.DEFAULT
    with warnings.catch_warnings(record=True), pytest.raises(vgg.WeightsError, match="both"):
        vgg.vgg13(pretrained=True, weights="DEFAULT")


def test_vgg16_bn_by_name_has_batch_norm_everywhere():
    assert vgg.build("vgg16_bn", device="meta").batch_norm
    assert vgg.analyze("vgg16_bn").totals.params == 138_365_992
    assert vgg.analyze("vgg16").totals.params == 138_357_544
    assert vgg.compare("vgg16", "vgg16_bn").b.batch_norm
    assert vgg.Network.resolve("VGG16_BN").label == "VGG16-BN (D)"


@pytest.mark.parametrize("call", [
    lambda: vgg.build("vgg16_bn", batch_norm=False),
    lambda: vgg.analyze("vgg16_bn", batch_norm=False),
    lambda: vgg.build("vgg19", batch_norm=True),
    lambda: vgg.Network.resolve("vgg11_bn", batch_norm=False),
])
def test_a_name_and_batch_norm_that_contradict_are_refused(call):
    with pytest.raises(vgg.SpecError, match="by its name") as caught:
        call()
    assert isinstance(caught.value, vgg.VGGError) and isinstance(caught.value, ValueError)


def test_network_is_one_hashable_value():
    d = vgg.Network.resolve("D")
    assert d == vgg.Network.resolve("vgg16") == vgg.Network.resolve(vgg.cfgs["D"])
    assert d == vgg.Network.resolve(" ".join(str(v) for v in vgg.cfgs["D"]))  # the text of D is D
    assert d == vgg.Network.resolve(vgg.CONFIGS["D"]) == vgg.Network.resolve(d)
    assert len({d, vgg.Network.resolve("D"), d.with_batch_norm(True)}) == 2
    assert vgg.Network.resolve("A-LRN").label == "VGG11-LRN (A-LRN)" and d.label == "VGG16 (D)"
    assert d.variant == "vgg16" and vgg.Network.resolve("C").variant is None
    assert vgg.Network.resolve(d, batch_norm=True).variant == "vgg16_bn"
    assert vgg.Network.resolve("64 M").label == "custom"
    with pytest.raises(vgg.SpecError, match="num_classes"):
        vgg.Network.resolve("D", num_classes=0)


def test_every_library_error_is_a_vgg_error():
    for error in (vgg.SpecError, vgg.ImageError, vgg.WeightsError, vgg.InputSizeError, vgg.DeviceError,
                  vgg.ResourceError, vgg.GraphvizNotInstalledError):
        assert issubclass(error, vgg.VGGError) and issubclass(error, ValueError)


def test_layer_kinds_have_one_group_table():
    assert set(vgg.KIND_GROUP) == set(vgg.LayerKind)
    assert vgg.LayerKind.CONV.group is vgg.LayerGroup.CONV and vgg.LayerKind.AVGPOOL.group == "pool"
    assert vgg.LayerKind("dropout").group == "other" and str(vgg.LayerKind.FC) == "fc"


def test_every_exception_class_in_the_library_is_a_vgg_error():
    import importlib
    import inspect
    import pkgutil

    found = []
    for info in pkgutil.walk_packages(vgg.__path__, "vgg."):
        if info.name in ("vgg.__main__",):
            continue
        module = importlib.import_module(info.name)
        found += [cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, Exception) and cls.__module__.startswith("vgg")]
    assert found and all(issubclass(cls, vgg.VGGError) for cls in found), [
        cls for cls in found if not issubclass(cls, vgg.VGGError)]


def test_vgg16_bn_by_name_has_batch_norm_on_the_command_line(capsys):
    import json

    from vgg.cli import main

    assert main(["summary", "vgg16_bn", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["batch_norm"] is True
    assert main(["summary", "vgg16", "--bn"]) == 2  # the contradiction, refused in one line
    assert "by its name" in capsys.readouterr().err


def test_vgg16_bn_in_the_apps_url_has_batch_norm():
    from explorer.state import from_query

    parsed = from_query({"config": "vgg16_bn"})
    assert parsed.state.model.config == "D" and parsed.state.model.batch_norm and not parsed.problems
    assert parsed.state.model.network == vgg.Network.resolve("vgg16_bn")
    contradicted = from_query({"config": "vgg16_bn", "bn": "false"})
    assert contradicted.state.model.batch_norm and "contradicts" in contradicted.problems[0]

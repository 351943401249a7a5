"""The VGG module: torchvision's parameter counts, state_dict layout, init scheme and shapes."""

import pytest
import torch
from torch import nn

import vgg
from tests.test_spec import TORCHVISION_CFGS
from vgg.arch.published import PAPER_PARAMS_MILLIONS, PUBLISHED

BUILDERS = {name: getattr(vgg, name) for name in PUBLISHED}


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def torchvision_layout(cfg: list, batch_norm: bool, num_classes: int = 1000) -> list[tuple[str, tuple]]:
    """torchvision's state_dict keys and shapes, derived here from its make_layers rules, independently."""
    keys, index, in_ch = [], 0, 3
    for v in cfg:
        if v == "M":
            index += 1
            continue
        keys += [(f"features.{index}.weight", (v, in_ch, 3, 3)), (f"features.{index}.bias", (v,))]
        if batch_norm:
            bn = f"features.{index + 1}"
            keys += [(f"{bn}.weight", (v,)), (f"{bn}.bias", (v,)), (f"{bn}.running_mean", (v,)),
                     (f"{bn}.running_var", (v,)), (f"{bn}.num_batches_tracked", ())]
        index += 3 if batch_norm else 2
        in_ch = v
    for i, (n_in, n_out) in zip((0, 3, 6), ((25088, 4096), (4096, 4096), (4096, num_classes)), strict=True):
        keys += [(f"classifier.{i}.weight", (n_out, n_in)), (f"classifier.{i}.bias", (n_out,))]
    return keys


@pytest.mark.parametrize("name", PUBLISHED)
def test_parameter_counts_equal_torchvisions_published(name):
    assert count(BUILDERS[name](init_weights=False)) == PUBLISHED[name].num_params


@pytest.mark.parametrize("name", PUBLISHED)
def test_state_dict_keys_order_and_shapes_are_torchvisions(name):
    config, bn = vgg.VARIANTS[name]
    model = vgg.build(config, batch_norm=bn, device="meta")
    got = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert got == torchvision_layout(TORCHVISION_CFGS[config], bn)


def test_pinned_landmarks_of_the_layout():
    sd = vgg.build("D", device="meta").state_dict()
    assert sd["features.28.weight"].shape == (512, 512, 3, 3)  # conv5_3 of VGG16
    assert len(sd) == 32
    sd_bn = vgg.build("E", batch_norm=True, device="meta").state_dict()
    assert sd_bn["features.49.weight"].shape == (512, 512, 3, 3)  # conv5_4 of VGG19-BN
    assert sd_bn["features.50.running_var"].shape == (512,)


def test_paper_configs_c_and_a_lrn():
    b = count(vgg.build("B", device="meta"))
    one_by_one = (256 * 256 + 256) + 2 * (512 * 512 + 512)
    assert count(vgg.build("C", device="meta")) == b + one_by_one
    assert count(vgg.build("A-LRN", device="meta")) == count(vgg.build("A", device="meta"))
    lrn = vgg.build("A-LRN", device="meta").features[2]
    assert isinstance(lrn, nn.LocalResponseNorm)
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 2.0)


@pytest.mark.parametrize("name", PAPER_PARAMS_MILLIONS)
def test_table_2_parameter_counts_in_millions(name):
    assert round(count(vgg.build(name, device="meta")) / 1e6) == PAPER_PARAMS_MILLIONS[name]


def test_meta_device_allocates_no_weight_memory():
    model = vgg.build("E", batch_norm=True, device="meta")
    assert all(p.device.type == "meta" for p in model.parameters())
    assert all(b.device.type == "meta" for b in model.buffers())


def test_initialisation_follows_torchvisions_scheme():
    torch.manual_seed(0)
    model = vgg.build("A", batch_norm=True)
    conv = model.features[0]
    fan_out = conv.out_channels * 9
    assert conv.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.1)
    assert torch.count_nonzero(conv.bias) == 0
    assert torch.all(model.features[1].weight == 1) and torch.all(model.features[1].bias == 0)
    fc = model.classifier[0]
    assert fc.weight.std().item() == pytest.approx(0.01, rel=0.02)
    assert torch.count_nonzero(fc.bias) == 0


@pytest.mark.parametrize("size", [(32, 32), (64, 96), (224, 224), (100, 37)])
def test_output_shape_for_any_input_from_32(size):
    model = vgg.build("A", num_classes=10).eval()
    with torch.inference_mode():
        assert model(torch.zeros(2, 3, *size)).shape == (2, 10)
        features = model.forward_features(torch.zeros(1, 3, *size))
    assert features.shape == (1, 512, size[0] // 32, size[1] // 32)


@pytest.mark.parametrize("size", [(31, 64), (16, 16), (224, 20)])
def test_inputs_below_32_get_a_clear_error(size):
    model = vgg.build("D", device="meta")
    with pytest.raises(vgg.InputSizeError, match="too small.*at least 32x32"):
        model(torch.zeros(1, 3, *size, device="meta"))


def test_wrong_channel_count_is_refused_in_words():
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        vgg.build("A", device="meta")(torch.zeros(1, 1, 64, 64, device="meta"))


def test_builders_pass_kwargs_and_custom_specs_build():
    model = vgg.vgg11(num_classes=7, dropout=0.2, init_weights=False)
    assert model.classifier[6].out_features == 7 and model.classifier[2].p == 0.2
    custom = vgg.build("32 M 64 conv1-64 M", device="meta")
    assert custom.classifier[0].in_features == 64 * 49
    assert custom.min_input_size == 4


def test_layer_infos_name_every_module_with_the_papers_names():
    model = vgg.build("D", batch_norm=True, device="meta")
    paths = [name for name, _ in model.named_modules() if name.count(".") == 1 or name == "avgpool"]
    assert [info.path for info in model.layer_infos] == paths
    names = {info.path: info.paper_name for info in model.layer_infos}
    assert names["features.0"] == "conv1_1" and names["features.1"] == "bn1_1"
    assert names["features.40"] == "conv5_3" and names["features.43"] == "pool5"
    assert names["classifier.0"] == "fc6" and names["classifier.6"] == "fc8"
    assert {info.stage for info in model.layer_infos} == {1, 2, 3, 4, 5, 6}

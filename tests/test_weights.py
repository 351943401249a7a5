"""Loading weights: the download path end to end on 127.0.0.1, local files, and every refusal."""

import os
import pickle
from pathlib import Path

import pytest
import torch

import vgg
from tests.conftest import save_with_hash_name
from vgg.arch.published import PUBLISHED, PublishedVariant

TINY = "16 M 32 M"


def tiny_state(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    return vgg.build(TINY, num_classes=5).state_dict()


def test_registry_urls_carry_torchvisions_hash_prefixes():
    assert PUBLISHED["vgg16"].url == "https://download.pytorch.org/models/vgg16-397923af.pth"
    assert PUBLISHED["vgg19_bn"].url.endswith("vgg19_bn-c79401a0.pth")
    assert len({v.file_name for v in PUBLISHED.values()}) == 8


def test_download_succeeds_then_reuses_the_cached_file(file_server, hub_dir):
    base, served = file_server
    state = tiny_state()
    path = save_with_hash_name(state, served, "tiny")
    variant = PublishedVariant("tiny", "A", False, path.name, 0, 0.0, 0.0, 0.0, 0.0)
    url = base + path.name

    loaded = vgg.load_state_dict(url, progress=False)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    cached = hub_dir / "checkpoints" / path.name
    assert cached.exists()

    path.unlink()  # the server no longer has it: a second call must come from the cache
    again = vgg.load_state_dict(url, progress=False)
    assert again.keys() == state.keys()
    with pytest.raises(vgg.WeightsError):  # a registry entry whose file is not cached nor served
        vgg.load_state_dict(PublishedVariant("gone", "A", False, "gone-12345678.pth", 0, 0, 0, 0, 0))
    assert variant.url.endswith(path.name)


def test_registry_variant_downloads_through_the_same_path(file_server, hub_dir, monkeypatch):
    base, served = file_server
    path = save_with_hash_name(tiny_state(), served, "vggtiny")
    monkeypatch.setattr("vgg.arch.published.WEIGHTS_BASE_URL", base)
    variant = PublishedVariant("vggtiny", "A", False, path.name, 0, 0.0, 0.0, 0.0, 0.0)
    model = vgg.load_into(vgg.build(TINY, num_classes=5), vgg.load_state_dict(variant, progress=False))
    assert torch.equal(model.features[0].weight, tiny_state()["features.0.weight"])


def test_hash_mismatch_is_rejected_and_not_left_in_the_cache(file_server, hub_dir):
    base, served = file_server
    good = save_with_hash_name(tiny_state(), served, "tiny")
    liar = served / "tiny-00000000.pth"
    good.rename(liar)
    with pytest.raises(vgg.WeightsError, match=r"incomplete or corrupt.*not kept"):
        vgg.load_state_dict(base + liar.name, progress=False)
    checkpoints = hub_dir / "checkpoints"
    assert not checkpoints.exists() or os.listdir(checkpoints) == []


def test_offline_download_says_where_to_put_the_file(hub_dir):
    with pytest.raises(vgg.WeightsError) as info:
        vgg.load_state_dict("http://127.0.0.1:9/vgg16-397923af.pth", progress=False)
    message = str(info.value)
    assert "Could not download vgg16-397923af.pth" in message
    assert str(hub_dir / "checkpoints" / "vgg16-397923af.pth") in message


def test_local_file_roundtrip_and_wrapped_checkpoints(tmp_path):
    state = tiny_state()
    plain = tmp_path / "plain.pth"
    torch.save(state, plain)
    wrapped = tmp_path / "wrapped.pth"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, wrapped)
    for path in (plain, wrapped):
        loaded = vgg.load_state_dict(path)
        assert loaded.keys() == state.keys()


def test_wrong_keys_and_shapes_are_listed(tmp_path):
    state = tiny_state()
    state["features.99.weight"] = torch.zeros(1)
    del state["classifier.0.bias"]
    state["features.0.weight"] = torch.zeros(8, 3, 3, 3)
    with pytest.raises(vgg.WeightsError) as info:
        vgg.load_into(vgg.build(TINY, num_classes=5), state)
    message = str(info.value)
    assert "1 missing keys: classifier.0.bias" in message
    assert "1 unexpected keys: features.99.weight" in message
    assert "features.0.weight: checkpoint (8, 3, 3, 3) vs model (16, 3, 3, 3)" in message


def test_another_configs_checkpoint_is_named():
    state = vgg.build("A", batch_norm=True, device="meta").state_dict()
    with pytest.raises(vgg.WeightsError, match="This checkpoint is for vgg11_bn"):
        vgg.check_state_dict(vgg.build("D", device="meta"), state)


def test_torchvision_layout_loads_strict(tmp_path):
    source = vgg.build("A", init_weights=False)
    path = tmp_path / "vgg11-like.pth"
    torch.save(source.state_dict(), path)
    target = vgg.load_into(vgg.vgg11(init_weights=False), vgg.load_state_dict(path))
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        assert torch.equal(source.eval()(x), target.eval()(x))


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"this is not a checkpoint", "not a readable PyTorch checkpoint"),
        (b"PK\x03\x04 truncated zip", "not a readable PyTorch checkpoint"),
    ],
)
def test_bad_files_are_refused_in_words(tmp_path, content, fragment):
    path = tmp_path / "bad.pth"
    path.write_bytes(content)
    with pytest.raises(vgg.WeightsError, match=fragment):
        vgg.load_state_dict(path)


def test_truncated_checkpoint_is_refused(tmp_path):
    full = tmp_path / "full.pth"
    torch.save(tiny_state(), full)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(vgg.WeightsError, match="not a readable PyTorch checkpoint"):
        vgg.load_state_dict(cut)


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": _RunsCode()}, path)
    with pytest.raises(vgg.WeightsError, match="Refused to load evil.pth"):
        vgg.load_state_dict(path)
    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps(_RunsCode()))
    with pytest.raises(vgg.WeightsError):
        vgg.load_state_dict(raw)


def test_missing_path_and_non_state_dicts(tmp_path):
    with pytest.raises(vgg.WeightsError, match="No checkpoint at"):
        vgg.load_state_dict(tmp_path / "nope.pth")
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(vgg.WeightsError, match="not a state_dict"):
        vgg.load_state_dict(path)


def test_builders_refuse_unknown_weights_and_other_class_counts():
    with pytest.raises(vgg.WeightsError, match="has no weights named"):
        vgg.vgg16(weights="nonsense")
    with pytest.raises(vgg.WeightsError, match="num_classes=1000"):
        vgg.vgg16(weights="IMAGENET1K_V1", num_classes=10)


def test_imagenet_class_names_ship_with_the_package():
    names = vgg.imagenet_classes()
    assert len(names) == 1000 and names[0] == "tench" and names[281] == "tabby"
    assert Path(vgg.__file__).parent.joinpath("data", "imagenet_classes.txt").exists()

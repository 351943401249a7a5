"""vgg.explain's attribution maps against reference implementations written from their published
definitions: pytorch-grad-cam's GradCAM and guided backprop (transcribed below: the package pulls
torchvision, which does not install beside this torch), captum's Occlusion and Saliency (captum
itself). Plus what the app relies on: nothing written to a shared model, in-place ReLUs, threads."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from captum.attr import Occlusion, Saliency
from torch import nn

import vgg
from vgg.explain import ExplainError, explain, named_layers, resolve_layer

SMALL_SPEC = "16 M 32 32 M 64 M"  # three stages: conv1_1, conv2_1, conv2_2, conv3_1


@pytest.fixture(scope="module")
def small() -> nn.Module:
    torch.manual_seed(0)
    return vgg.prepare(vgg.build(SMALL_SPEC, batch_norm=True, num_classes=10), "cpu")


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    return torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))


def out_of_place_copy(model: nn.Module) -> nn.Module:
    """A private copy the references may hook, with ReLU(inplace=False): hooks on in-place ReLUs are the
    bug the issue names; the references must not inherit it."""
    private = copy.deepcopy(model)
    for module in private.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False
    return private


def scale_cam_image(cam: np.ndarray, target_size: tuple[int, int] | None = None) -> np.ndarray:
    """pytorch-grad-cam's utils.image.scale_cam_image: min-max each map, then resize (cv2's bilinear, which
    for upsampling is torch's bilinear with align_corners=False)."""
    result = []
    for img in cam:
        img = img - np.min(img)
        img = img / (1e-7 + np.max(img))
        if target_size is not None:
            width, height = target_size
            img = F.interpolate(torch.from_numpy(img)[None, None], size=(height, width), mode="bilinear",
                                align_corners=False)[0, 0].numpy()
        result.append(img)
    return np.float32(result)


def reference_gradcam(model: nn.Module, x: torch.Tensor, layer: nn.Module, target: int | None) -> np.ndarray:
    """pytorch-grad-cam's GradCAM (BaseCAM.forward + ActivationsAndGradients): hooks on the layer, the
    target's logit backpropagated, weights = mean gradient over (h, w), ReLU of the weighted sum, scaled."""
    activations, gradients = [], []

    def save(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
        activations.append(output.cpu().detach())
        output.register_hook(lambda grad: gradients.insert(0, grad.cpu().detach()))

    handle = layer.register_forward_hook(save)
    try:
        outputs = model(x)
        category = int(outputs[0].argmax()) if target is None else target
        model.zero_grad()
        outputs[0, category].backward(retain_graph=True)
    finally:
        handle.remove()
    a, g = activations[0].numpy(), gradients[0].numpy()
    weights = np.mean(g, axis=(2, 3))
    cam = (weights[:, :, None, None] * a).sum(axis=1)
    cam = np.maximum(cam, 0)
    scaled = scale_cam_image(cam, (x.shape[-1], x.shape[-2]))[:, None, :]
    result = np.mean(np.maximum(scaled, 0), axis=1)
    return scale_cam_image(result)[0]


class _GuidedBackpropReLU(torch.autograd.Function):
    """pytorch-grad-cam's GuidedBackpropReLU: positive gradients through positive inputs."""

    @staticmethod
    def forward(ctx, input_img):
        output = torch.addcmul(torch.zeros_like(input_img), input_img, (input_img > 0).type_as(input_img))
        ctx.save_for_backward(input_img, output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        input_img, _ = ctx.saved_tensors
        positive_mask_1 = (input_img > 0).type_as(grad_output)
        positive_mask_2 = (grad_output > 0).type_as(grad_output)
        return torch.addcmul(torch.zeros_like(input_img),
                             torch.addcmul(torch.zeros_like(input_img), grad_output, positive_mask_1), positive_mask_2)


class _GuidedReLUModule(nn.Module):
    def forward(self, x):
        return _GuidedBackpropReLU.apply(x)


def reference_guided_backprop(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """pytorch-grad-cam's GuidedBackpropReLUModel: every ReLU module replaced, the input's gradient."""
    guided = out_of_place_copy(model)
    for sequential in (guided.features, guided.classifier):
        for index, module in enumerate(sequential):
            if isinstance(module, nn.ReLU):
                sequential[index] = _GuidedReLUModule()
    leaf = x.clone().requires_grad_(True)
    guided(leaf)[0, target].backward()
    return leaf.grad[0]


@pytest.mark.parametrize("layer", [None, "relu2_2", "features.4", "pool3"])
@pytest.mark.parametrize("target", [None, 3])
def test_gradcam_equals_pytorch_grad_cam(small, image, layer, target):
    ours = explain(small, image, "gradcam", layer=layer, target=target)
    chosen = resolve_layer(small, layer or "conv3_1")
    private = out_of_place_copy(small)
    reference = reference_gradcam(private, image, private.get_submodule(chosen.path), target)
    assert ours.layer == chosen.path
    assert ours.heatmap.shape == (64, 64)
    np.testing.assert_allclose(ours.heatmap.numpy(), reference, atol=2e-5)
    assert float(ours.heatmap.min()) == pytest.approx(0.0) and float(ours.heatmap.max()) == pytest.approx(1.0)


@pytest.mark.slow
def test_gradcam_equals_pytorch_grad_cam_on_vgg16_conv5_3():
    torch.manual_seed(0)
    model = vgg.prepare(vgg.build("D"), "cpu")
    x = vgg.preprocess(vgg.load_sample("cat"))
    ours = explain(model, x, "gradcam", layer="conv5_3")
    private = out_of_place_copy(model)
    reference = reference_gradcam(private, x, private.features[28], ours.target)
    assert ours.layer == "features.28"
    np.testing.assert_allclose(ours.heatmap.numpy(), reference, atol=1e-4)


def test_guided_backprop_and_guided_gradcam_equal_the_reference(small, image):
    guided = explain(small, image, "guided_backprop", target=2)
    reference = reference_guided_backprop(small, image, 2)
    torch.testing.assert_close(guided.raw, reference, rtol=1e-4, atol=1e-6)
    combined = explain(small, image, "guided_gradcam", target=2)
    cam = explain(small, image, "gradcam", target=2)
    # pytorch-grad-cam: cam_mask * gb
    torch.testing.assert_close(combined.raw, reference * cam.heatmap, rtol=1e-4, atol=1e-6)
    assert combined.heatmap.shape == (64, 64) and float(combined.heatmap.max()) == pytest.approx(1.0, abs=1e-3)


def test_saliency_equals_captum(small, image):
    ours = explain(small, image, "saliency", target=4)
    reference = Saliency(out_of_place_copy(small)).attribute(image.clone().requires_grad_(), target=4, abs=True)[0]
    torch.testing.assert_close(ours.raw.abs(), reference, rtol=1e-4, atol=1e-7)
    largest = ours.raw.abs().amax(dim=0)  # Simonyan et al.: the largest magnitude over the colour channels
    torch.testing.assert_close(ours.heatmap, (largest - largest.min()) / (largest.max() - largest.min() + 1e-7))


@pytest.mark.parametrize(("size", "window", "stride", "baseline"), [
    ((64, 64), 16, 8, 0.0),  # windows tile the image exactly
    ((67, 61), 12, 5, 0.3),  # odd sides: the last window of each row is clipped at the border, as captum's
    ((64, 64), 20, 20, -1.0),
])
def test_occlusion_equals_captum(small, size, window, stride, baseline):
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(2))
    ours = explain(small, x, "occlusion", window=window, stride=stride, baseline=baseline, batch_size=7)
    reference = Occlusion(small).attribute(x, sliding_window_shapes=(3, window, window),
                                           strides=(3, stride, stride), baselines=baseline, target=ours.target,
                                           perturbations_per_eval=32)
    assert ours.raw.shape == size
    torch.testing.assert_close(ours.raw, reference.sum(dim=1)[0], rtol=1e-4, atol=1e-5)


def test_occlusion_with_a_tensor_baseline_equals_captum(small, image):
    baseline = torch.linspace(-1, 1, 64).view(1, 1, 1, 64).expand(1, 3, 64, 64)
    ours = explain(small, image, "occlusion", window=16, stride=16, baseline=baseline, target=1)
    reference = Occlusion(small).attribute(image, sliding_window_shapes=(3, 16, 16), strides=(3, 16, 16),
                                           baselines=baseline, target=1, perturbations_per_eval=32)
    torch.testing.assert_close(ours.raw, reference.sum(dim=1)[0], rtol=1e-4, atol=1e-5)


def test_occlusion_patches_equal_running_every_copy_whole(small, image):
    """The patch-carrying pass gives the numbers of running every occluded image through the network."""
    from vgg.explain import occlusion as occlusion_module

    layers = named_layers(small)
    fill = torch.zeros_like(image)
    boxes = [(0, 0), (8, 40), (48, 48), (30, 3)]
    with torch.inference_mode():
        plan = occlusion_module._plan(layers, image.shape[-2:])
        maps = occlusion_module._base_maps(layers, image, plan.until)
        patched = occlusion_module._patch_scores(layers, plan, maps, image, fill, boxes, (16, 16), 5)
        whole = occlusion_module._whole_scores(small, image, fill, boxes, (16, 16), 5)
    torch.testing.assert_close(patched, whole, rtol=1e-5, atol=1e-6)


def test_explaining_writes_nothing_to_the_model_and_survives_inplace_relu(small, image):
    relus = [m for m in small.modules() if isinstance(m, nn.ReLU)]
    assert relus and all(m.inplace for m in relus), "the test is about torchvision's in-place ReLUs"
    before = {name: tensor.clone() for name, tensor in small.state_dict().items()}
    for method in vgg.explain.METHODS:
        options = {"window": 16, "stride": 16} if method == "occlusion" else {}
        result = explain(small, image, method, **options)
        assert torch.isfinite(result.heatmap).all() and result.heatmap.shape == (64, 64), method
    assert not small.training
    assert all(parameter.grad is None for parameter in small.parameters())
    assert all(torch.equal(before[name], tensor) for name, tensor in small.state_dict().items())


def test_the_default_target_is_the_prediction(small, image):
    with torch.inference_mode():
        predicted = int(small(image).argmax())
    for method in ("gradcam", "saliency", "guided_gradcam"):
        assert explain(small, image, method).target == predicted


def test_threads_explaining_one_shared_model_get_the_serial_results(small):
    inputs = [torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(10 + i)) for i in range(6)]
    jobs = [(x, method, i % 10) for i, x in enumerate(inputs) for method in ("gradcam", "guided_backprop")]
    serial = [explain(small, x, method, target=t).raw for x, method, t in jobs]
    results: list[torch.Tensor | None] = [None] * len(jobs)
    barrier = threading.Barrier(4)

    def work(worker: int) -> None:
        barrier.wait()
        for index in range(worker, len(jobs), 4):
            x, method, t = jobs[index]
            results[index] = explain(small, x, method, target=t).raw

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, expected in zip(results, serial, strict=True):
        assert got is not None and torch.equal(got, expected)


def test_the_callable_package_and_its_names(small, image):
    assert vgg.explain(small, image, "gradcam").method == "gradcam"
    assert vgg.explain.explain is explain
    assert vgg.dense_scores is vgg.explain.dense_scores
    assert set(vgg.explain.__all__) <= set(dir(vgg.explain))


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"method": "gradcamm"}, "Unknown method"),
    ({"method": "gradcam", "layer": "conv9_9"}, "No layer 'conv9_9'"),
    ({"method": "gradcam", "layer": "fc7"}, "in the head"),
    ({"method": "gradcam", "target": 10}, "0..9"),
    ({"method": "saliency", "layer": "conv1_1"}, "reads no layer"),
    ({"method": "gradcam", "window": 3}, "takes no option window"),
    ({"method": "occlusion", "window": 100}, "larger than the image"),
    ({"method": "occlusion", "window": 8, "stride": 9}, "larger than the window"),
])
def test_bad_requests_are_refused_in_words(small, image, kwargs, fragment):
    method = kwargs.pop("method")
    with pytest.raises(ExplainError, match=fragment):
        explain(small, image, method, **kwargs)


def test_a_model_in_training_mode_is_refused(image):
    model = vgg.build(SMALL_SPEC, num_classes=10)  # train mode, as built
    with pytest.raises(ExplainError, match="vgg.prepare"):
        explain(model, image, "gradcam")
    assert model.training  # and left as it was


def test_paper_names_follow_the_analysis():
    report = vgg.analyze("A-LRN", batch_norm=True)
    model = vgg.build("A-LRN", batch_norm=True, device="meta")
    assert [(layer.path, layer.paper_name) for layer in named_layers(model)] == \
        [(row.name, row.paper_name) for row in report.layers]


def test_the_pointing_game_counts_peaks_inside_the_boxes(small):
    from vgg.explain import pointing_game

    images = torch.randn(4, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    boxes = torch.tensor([[0, 0, 64, 64], [0, 0, 32, 32], [32, 32, 64, 64], [10, 20, 30, 60]], dtype=torch.float32)
    labels = torch.tensor([0, 1, 2, 3])
    game = pointing_game(small, images, boxes, labels)
    expected = [explain(small, image[None], "gradcam", target=int(label)).heatmap.argmax().item()
                for image, label in zip(images, labels, strict=True)]
    assert game.peaks == tuple(divmod(flat, 64) for flat in expected)
    inside = [x0 <= col < x1 and y0 <= row < y1 for (row, col), (x0, y0, x1, y1) in zip(game.peaks, boxes.tolist(),
                                                                                        strict=True)]
    assert game.hits == sum(inside) and game.total == 4 and game.layer == "features.11"  # conv3_1, with BN
    assert game.random_baseline == pytest.approx((1 + 0.25 + 0.25 + 20 * 40 / 64**2) / 4)
    assert game.accuracy == game.hits / 4


def test_the_pointing_game_needs_a_dataset_with_boxes(small):
    from vgg.explain import play_on_test_split
    from vgg.train import digits_dataset

    with pytest.raises(ExplainError, match="records no object boxes.*shapes dataset"):
        play_on_test_split(small, digits_dataset())


@pytest.mark.slow
def test_a_mini_vgg_trained_on_shapes_looks_at_the_shapes():
    """The honest check: a mini D trained on the generated shapes (a few minutes on two cores), Grad-CAM of the
    true class at its last convolution, peaks counted inside the recorded boxes of the 400 test images. The
    goal (80%, benchmarks/bench_pointing.py) is the benchmark's; here the network must point at the object
    far more often than a random point would, which an untrained network does not."""
    from vgg.explain import SHAPES_RECIPE, play_on_test_split
    from vgg.train import fit

    trained = fit(SHAPES_RECIPE, threads=torch.get_num_threads())
    assert trained.test_accuracy >= 0.8  # it learned the shapes (99.0% on the EPYC that measured the goal)
    game = play_on_test_split(trained.model, trained.dataset)
    assert game.total == len(trained.dataset.test.labels) and game.layer == "features.40"  # conv5_3 with BN
    assert game.accuracy >= game.random_baseline + 0.3, (game.accuracy, game.random_baseline)

    untrained = vgg.train.MiniVGG("D", batch_norm=True, width_divisor=4, input_size=SHAPES_RECIPE.input_size,
                                  num_classes=8, dropout=0.0).build().eval()
    assert play_on_test_split(untrained, trained.dataset).accuracy < game.accuracy - 0.2


def test_a_plateau_peak_is_its_middle_not_the_image_edge():
    """Grad-CAM's 4 x 4 grid upsampled to 64 px is flat from a border cell's centre to the image's edge;
    the peak is that plateau's middle, where the cell's evidence is, not its first pixel in reading order."""

    from vgg.explain import has_peak, peak_of

    grid = torch.zeros(1, 1, 4, 4)
    grid[0, 0, 0, 1] = 1.0  # the top row's second cell: centre at row 7.5, column 23.5
    upsampled = F.interpolate(grid, size=(64, 64), mode="bilinear", align_corners=False)[0, 0]
    assert divmod(int(upsampled.argmax()), 64) == (0, 23)  # what argmax alone gives: the image's top edge
    row, column = peak_of(upsampled)
    assert upsampled[row, column] == upsampled.max() and 3 <= row <= 4 and column in (23, 24)
    corner = torch.zeros(1, 1, 4, 4)
    corner[0, 0, 3, 3] = 1.0
    assert peak_of(F.interpolate(corner, size=(64, 64), mode="bilinear", align_corners=False)[0, 0]) == (59, 59)
    with pytest.raises(ValueError, match="non-empty"):
        peak_of(torch.zeros(0, 3))
    assert has_peak(upsampled) and not has_peak(torch.zeros(8, 8)) and not has_peak(torch.full((8, 8), 0.5))


def test_a_flat_map_scores_a_miss_in_the_pointing_game(monkeypatch):
    from vgg.explain import pointing
    from vgg.explain.result import Explanation

    def flat(model, x, method, *, layer=None, target=None):
        zeros = torch.zeros(x.shape[-2:])
        return Explanation(zeros, zeros, int(target), method, "features.0", score=0.0)

    monkeypatch.setattr(pointing, "explain", flat)
    images, boxes = torch.zeros(2, 3, 8, 8), torch.tensor([[0.0, 0.0, 8.0, 8.0]] * 2)  # boxes cover everything
    game = pointing.pointing_game(torch.nn.Identity(), images, boxes, torch.tensor([0, 1]))
    assert (game.hits, game.flat, game.total, game.random_baseline) == (0, 2, 2, 1.0)


def test_the_box_and_peak_are_drawn_where_they_are_at_any_display_size():
    from PIL import Image

    from vgg.explain import inside, mark_box_and_peak, peak_of

    heatmap = torch.zeros(64, 64)
    heatmap[40, 10] = 1.0
    assert peak_of(heatmap) == (40, 10)
    box = (8.0, 32.0, 24.0, 48.0)  # x0, y0, x1, y1
    assert inside((40, 10), box) and not inside((40, 24), box) and inside((40, 25), box, tolerance=2)
    black = Image.new("RGB", (256, 256))  # four display pixels per input pixel
    marked = mark_box_and_peak(black, (64, 64), peak_of(heatmap), box)
    assert black.getpixel((0, 0)) == (0, 0, 0) and marked is not black
    assert marked.getpixel((8 * 4, 40 * 4)) == (255, 255, 255)  # the box's left edge
    assert marked.getpixel((10 * 4 + 2, 40 * 4 + 2)) == (255, 255, 255)  # the cross's centre
    assert marked.getpixel((128, 200)) == (0, 0, 0)  # far from both

"""The app's training service: one server-wide ``vgg.train.TrainingQueue`` (one job at a time per
server, the others queued), which session follows which job, and the models trained here.

Views call these functions; the queue and its thread live in the library, so a rerun, a second tab
or another session never owns (or loses) a job: each only reads it by id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st
import torch
from PIL import Image
from streamlit.delta_generator import DeltaGenerator

import vgg
import vgg.train
from explorer.guard import plain
from explorer.image_input import ACCEPTED, uploaded_image
from vgg.explain import enlarged  # the views' name for it: training.enlarged
from vgg.train import JobView, Recipe, TrainedEntry, TrainingQueue

JOB_KEY = "train_job"  # the session's job id, mirrored in the URL (?job=N) so a second tab finds it
TRAINED_KEY = "trained_model"  # the sidebar's choice among models trained here


@st.cache_resource(show_spinner=False)
def queue() -> TrainingQueue:
    """The one queue of this server process, shared by every session."""
    return TrainingQueue(threads=1)


def current_job() -> JobView | None:
    """The job this session (or the tab's URL) follows, if the server still knows it."""
    job_id = st.session_state.get(JOB_KEY)
    if job_id is None:
        text = st.query_params.get("job", "")
        job_id = int(text) if text.isdigit() else None
    if job_id is None:
        return None
    return queue().snapshot(int(job_id))


def follow(job_id: int) -> None:
    st.session_state[JOB_KEY] = job_id
    st.query_params["job"] = str(job_id)


def submit_training(recipe: Recipe) -> int:
    job_id = queue().submit_training(recipe)
    follow(job_id)
    return job_id


def submit_experiment(name: str, *, seeds: int, epochs: int | None, dataset: str | None = None,
                      lr: float | None = None) -> int:
    """Queue an experiment; ``epochs``, ``dataset`` and ``lr`` None keep the experiment's own."""
    overrides = {key: value for key, value in (("lr", lr), ("dataset", dataset)) if value is not None}
    job_id = queue().submit_experiment(name, seeds=seeds, epochs=epochs, **overrides)
    follow(job_id)
    return job_id


def stop(job_id: int) -> None:
    queue().stop(job_id)


def models() -> list[TrainedEntry]:
    return queue().models()


def model(model_id: int | None) -> TrainedEntry | None:
    return None if model_id is None else queue().model(int(model_id))


def chosen_model(model_id: int | None) -> TrainedEntry | None:
    """The sidebar's model trained here, or None with a hint shown where there is none yet."""
    entry = model(model_id)
    if entry is None:
        st.info("No trained model yet: press Train in the Train view, then choose it under Weights.")
    return entry


def offer_upload(data: bytes) -> TrainedEntry:
    """An uploaded checkpoint from ``python -m vgg train --out``: offered like a model trained here."""
    return queue().add_model(vgg.train.load_checkpoint(data), data)


def sidebar_label(entry: TrainedEntry) -> str:
    return f"Trained here: {entry.label}"


TEST_IMAGE, UPLOAD, DRAW = "Test image", "Upload", "Draw"
CANVAS_SIDE = 256  # px: room for a digit drawn with a mouse, small enough beside the scan at 1280x720
STROKE_WIDTH = 20  # px of 256: a marker's line; the library thickens it to the scans' ink in any case
DIGIT_UPLOAD = (f"{ACCEPTED} A photo of one digit, dark ink on light paper or light on dark: it is cut out and "
                "scaled as the dataset's scans were.")


@dataclass(frozen=True)
class TrainedImage:
    """An image for a trained mini, as its network takes it."""

    pixels: torch.Tensor  # (3, S, S) in [0, 1] at the network's input size
    caption: str  # "test image 3: a star", "upload: seven.png"
    digest: str  # identifies the pixels, to key cached results
    box: tuple[float, float, float, float] | None = None  # the object's (x0, y0, x1, y1), for shapes' test images
    label: int | None = None  # the true class, for test images


def choose_trained_image(entry: TrainedEntry, key: str) -> TrainedImage | None:
    """An image for a trained mini: one of its dataset's test images (never seen in training), an upload, or
    (for a digits network) a digit drawn with the mouse."""
    trained = entry.trained
    sources = (TEST_IMAGE, UPLOAD, DRAW) if trained.dataset.get("name") == "digits" else (TEST_IMAGE, UPLOAD)
    source = st.segmented_control("Image", sources, default=TEST_IMAGE, key=f"{key}_trained_source", required=True)
    if source == DRAW:
        return _drawn_digit(trained, key)
    if source == TEST_IMAGE:
        test = dataset_test_split(entry)
        index = int(st.number_input(f"Test image (0 to {len(test.labels) - 1})", min_value=0,
                                    max_value=len(test.labels) - 1, value=0, key=f"{key}_trained_index"))
        label = int(test.labels[index])
        box = None if test.boxes is None else tuple(float(v) for v in test.boxes[index])
        return TrainedImage(test.images[index], f"test image {index}: a {trained.class_names[label]}",
                            f"test:{entry.id}:{index}", box, label)  # type: ignore[arg-type]
    is_digits = trained.dataset.get("name") == "digits"
    uploaded = st.file_uploader("Upload an image", type=None, key=f"{key}_trained_upload", help=ACCEPTED)
    st.caption(DIGIT_UPLOAD if is_digits else f"{ACCEPTED} Squashed to the network's {trained.input_size} px.")
    if uploaded is None:
        st.info("Choose a file to run it through the trained network.")
        return None
    image, digest = uploaded_image(uploaded)
    caption = f"upload: {uploaded.name}"
    if is_digits:  # cut out and scaled as the scans were, not squashed: a digit on a page is small
        return _as_digit(trained, image, caption, st.columns(3)[0])
    return TrainedImage(trained.image_pixels(image), caption, f"upload:{digest}")


def _drawn_digit(trained: vgg.train.TrainedModel, key: str) -> TrainedImage | None:
    """A canvas to draw a digit on, light on dark like the scans; the drawing made into the dataset's
    8x8 scan (shown beside it) and the network's input by the library, exactly as a test image is made."""
    # Imported here, not at the top: importing it registers its component, which needs a running
    # Streamlit, and the views are also imported by plain tests.
    from streamlit_drawable_canvas import st_canvas

    left, right, _ = st.columns(3)  # a third of the page holds the 256 px canvas even at 1280x720
    with left:
        # Above the canvas: its toolbar shows over whatever is there while the mouse is on it, and over this
        # caption it hides no button.
        st.caption("Draw one digit, large, with the mouse (or a finger); the bin in the canvas's toolbar clears it.")
        canvas = st_canvas(stroke_width=STROKE_WIDTH, stroke_color="#FFFFFF", background_color="#000000",
                           width=CANVAS_SIDE, height=CANVAS_SIDE, drawing_mode="freedraw", return_image_data=True,
                           key=f"{key}_trained_drawing")
    drawing = canvas.image_data  # (256, 256, 4) uint8 once something is drawn
    if drawing is None or not (canvas.json_data or {}).get("objects"):
        right.info("Draw a digit on the black square: the network classifies it when you lift the mouse.",
                   icon=":material/draw:")
        return None
    return _as_digit(trained, drawing, "your drawing", right)


def _as_digit(trained: vgg.train.TrainedModel, drawing: Image.Image | np.ndarray, caption: str,
              where: DeltaGenerator) -> TrainedImage | None:
    """A drawing or a photo of a digit made into the dataset's 8x8 scan (shown in ``where``) and the network's
    input by the library, exactly as a test image is made; a warning in words when there is no digit to see."""
    try:
        drawn = vgg.train.digit_from_drawing(drawing, input_size=trained.input_size)
    except vgg.train.DatasetError as error:
        where.warning(plain(str(error)))
        return None
    scan = torch.from_numpy(drawn.scan).expand(3, -1, -1)  # (3, 8, 8): shown as grey, like the pixels
    where.image(enlarged(scan, side=CANVAS_SIDE), width=CANVAS_SIDE,
                caption="As the digits dataset stores it: strokes thickened to the scans' ink, the box scaled to "
                        "fill 32 px, each 4x4 block counted into one of 8 x 8 cells")
    return TrainedImage(drawn.pixels, caption, f"digit:{hashlib.sha256(drawn.scan.tobytes()).hexdigest()[:16]}")


def dataset_test_split(entry: TrainedEntry) -> vgg.train.Split:
    """The test split of the dataset the entry was trained on (the images it never saw)."""
    trained = entry.trained
    return _test_split(trained.dataset.get("name", "digits"), trained.input_size, int(trained.dataset.get("seed", 0)))


@st.cache_resource(show_spinner=False, max_entries=4)
def _test_split(name: str, input_size: int, seed: int) -> vgg.train.Split:
    return vgg.train.load_dataset(name, input_size=input_size, seed=seed).test

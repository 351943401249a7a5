"""Where the forward pass's image comes from: a bundled sample, an upload, or the camera."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import streamlit as st
from PIL import Image

import vgg
from vgg.vision import load_sample, sample_credits, sample_images

SOURCES = ("Sample", "Upload", "Camera")
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif"]


@dataclass(frozen=True)
class ChosenImage:
    image: Image.Image
    label: str  # "sample: cat", "upload: holiday.jpg"
    digest: str  # identifies the pixels, to key cached results
    credit: str = ""


@st.cache_data(show_spinner=False, max_entries=32)
def _load_bytes(data: bytes, name: str) -> Image.Image:
    stream = io.BytesIO(data)
    stream.name = name  # load_image names the file in its refusals: "holiday.png is text, not an image."
    return vgg.load_image(stream)


@st.cache_resource(show_spinner=False)
def _sample(name: str) -> Image.Image:
    return load_sample(name)


def choose_image(key: str = "image") -> ChosenImage | None:
    """The picker; None (with a hint shown) until an upload or photo arrives. Bad files raise
    ImageError, which the view's guard shows as an error message."""
    source = st.segmented_control("Image", SOURCES, default="Sample", key=f"{key}_source", required=True)
    if source == "Sample":
        names = list(sample_images())
        name = st.selectbox("Sample", names, index=names.index("cat") if "cat" in names else 0, key=f"{key}_sample")
        return ChosenImage(_sample(name), f"sample: {name}", f"sample:{name}", sample_credits().get(name, ""))
    if source == "Upload":
        uploaded = st.file_uploader("Upload an image", type=UPLOAD_TYPES, key=f"{key}_upload",
                                    help="JPEG, PNG, WebP, BMP, TIFF or GIF (first frame), at least 32 px a side.")
    else:
        uploaded = st.camera_input("Take a photo", key=f"{key}_camera")
    if uploaded is None:
        st.info("Choose a file (or take a photo) to run it through the network; the samples work meanwhile.")
        return None
    data = uploaded.getvalue()
    image = _load_bytes(data, uploaded.name)
    return ChosenImage(image, f"{source.lower()}: {uploaded.name}", hashlib.sha256(data).hexdigest()[:16])

"""Where the forward pass's image comes from: a bundled sample, an upload, or the camera."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import streamlit as st
from PIL import Image
from streamlit.runtime.uploaded_file_manager import UploadedFile

import vgg
from vgg.vision import load_sample, sample_credits, sample_images

SOURCES = ("Sample", "Upload", "Camera")
# Every file type is let through to the library, which says in words what a file is and why it is refused;
# a type list here would have the browser refuse phone photos with a bare "!" instead.
ACCEPTED = f"Accepted: {vgg.vision.SUPPORTED_NAMES} (first frame), phone photos included, at least 32 px a side."


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
    source = st.segmented_control("Image", SOURCES, default="Sample", key=f"{key}_source", required=True,
                                  bind="query-params")  # a link can open the uploader: ?forward_source=Upload
    if source == "Sample":
        names = list(sample_images())
        name = st.selectbox("Sample", names, index=names.index("cat") if "cat" in names else 0, key=f"{key}_sample")
        return ChosenImage(_sample(name), f"sample: {name}", f"sample:{name}", sample_credits().get(name, ""))
    if source == "Upload":
        uploaded = st.file_uploader("Upload an image", type=None, key=f"{key}_upload", help=ACCEPTED)
        st.caption(ACCEPTED)
    else:
        uploaded = st.camera_input("Take a photo", key=f"{key}_camera")
    if uploaded is None:
        st.info("Choose a file (or take a photo) to run it through the network; the samples work meanwhile.")
        return None
    image, digest = uploaded_image(uploaded)
    return ChosenImage(image, f"{source.lower()}: {uploaded.name}", digest)


def uploaded_image(uploaded: UploadedFile) -> tuple[Image.Image, str]:
    """An uploaded file as an oriented RGB image and a digest of its bytes (to key cached results); ImageError
    in words for a file that is not a usable image."""
    data = uploaded.getvalue()
    return _load_bytes(data, uploaded.name), hashlib.sha256(data).hexdigest()[:16]

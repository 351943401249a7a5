"""VGG Explorer: `streamlit run explorer/app.py`."""

import sys
from pathlib import Path

# `streamlit run` puts explorer/ on sys.path, not the checkout: make `import vgg` work from any cwd.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st

import vgg

st.set_page_config(page_title="VGG Explorer", layout="wide")
st.title("VGG Explorer")
model = vgg.build("D", device="meta")
st.metric("VGG16 parameters", f"{sum(p.numel() for p in model.parameters()):,}")

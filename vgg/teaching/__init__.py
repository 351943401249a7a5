"""What the Lesson and Paper views teach with: the build walked one spec entry at a time, the project's
own source read as it runs, and the paper's Table 1 generated from the code's specs."""

from vgg.teaching.lesson import BuildStep, build_steps
from vgg.teaching.paper import PAPER_ORDER, Entry, Table1, table1
from vgg.teaching.source import (
    SourceListing,
    builder_listings,
    forward_listing,
    highlighted_lines,
    listing,
    make_layers_listing,
    reset_parameters_listing,
    vgg_init_listing,
)

__all__ = [
    "PAPER_ORDER", "BuildStep", "Entry", "SourceListing", "Table1", "build_steps", "builder_listings",
    "forward_listing", "highlighted_lines", "listing", "make_layers_listing", "reset_parameters_listing",
    "table1", "vgg_init_listing",
]

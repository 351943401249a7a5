"""What the Lesson and Paper views teach with: the seed's path from builder to forward as steps, the
project's own source read as it runs, and the paper's Table 1 generated from the code's specs."""

from vgg.teaching.lesson import Appended, InitGroup, Lesson, LessonStep, Stage, init_groups, lesson_of
from vgg.teaching.paper import PAPER_ORDER, Entry, Table1, table1
from vgg.teaching.source import Code, SourceListing, highlight, listing

__all__ = [
    "PAPER_ORDER", "Appended", "Code", "Entry", "InitGroup", "Lesson", "LessonStep", "SourceListing", "Stage",
    "Table1", "highlight", "init_groups", "lesson_of", "listing", "table1",
]

"""A class at once, driven in one Chromium: every student (a browser context of its own) opens the teacher's link
to the Forward pass's uploader, uploads a photo of their own to VGG16, uploads it again in Explain for its
Grad-CAM (and guided backprop, the view's defaults), then opens Compare. Used against one server
(tests/e2e/test_load_e2e.py) and through nginx in front of two (tests/e2e/test_proxy_e2e.py).

One thread drives every page (Playwright's sync API is not thread-safe): each page is a small state
machine that advances as soon as its page shows what the step waits for, so the server works on every
session at once, as it would in a room. Each session's steps are timed from the moment it asked.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.corpus import encode, photo

RENDERED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# The Compare view's default, VGG11 (A) against the sidebar's VGG16 (D): both parameter counts, as torchvision
# publishes them, in its totals table.
COMPARE_TOTALS = ("132.86 M", "138.36 M")


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {name: value.strip() for name, value in (line.split(":", 1) for line in lines)}


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak so far) of a process, in MiB."""
    fields = proc_status(pid)
    return {name: int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM")}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime, stime in clock ticks (USER_HZ = 100 on Linux)


class MemorySampler:
    """The largest VmRSS of some processes seen while the load runs (sampled every 0.2 s, in a thread)."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self.peak: dict[int, float] = dict.fromkeys(self.pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for pid in self.pids:
                try:
                    self.peak[pid] = max(self.peak[pid], memory_mib(pid)["VmRSS"])
                except (FileNotFoundError, ProcessLookupError, KeyError):
                    continue  # a replica stopped on purpose

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass
class Student:
    """One browser session and its own photo; ``times`` holds each step's seconds."""

    index: int
    url: str  # the server, or the proxy in front of several
    context: BrowserContext
    page: Page
    photo: Path
    size: tuple[int, int]
    served_by: str = ""  # the X-Explorer-Server header of the page, behind the proxy
    step: int = 0
    acted_at: float | None = None  # when the current step's action ran; None until it has
    retries: int = 0  # actions that timed out on a busy page and were tried again
    times: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    captions_seen: set[str] = field(default_factory=set)  # the "1. Original, W × H" captions on its page
    explained_seen: set[str] = field(default_factory=set)  # the "Explaining upload: <file>" captions on its page

    @property
    def caption(self) -> str:
        return f"1. Original, {self.size[0]} × {self.size[1]}"

    @property
    def explained(self) -> str:
        return f"Explaining upload: {self.photo.name}"


def photos(folder: Path, count: int, first: int = 0) -> list[tuple[Path, tuple[int, int]]]:
    """A different picture per student (its size tells it apart on the page): PNG and JPEG in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(first, first + count):
        size = (300 + 7 * index, 200 + 5 * index)
        fmt = "PNG" if index % 2 == 0 else "JPEG"
        path = folder / f"student-{index}.{fmt.lower()}"
        path.write_bytes(encode(photo(size), fmt))
        made.append((path, size))
    return made


def new_students(browser: Browser, url: str, pictures: Sequence[tuple[Path, tuple[int, int]]],
                 first: int = 0) -> list[Student]:
    students = []
    for offset, (path, size) in enumerate(pictures):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        students.append(Student(first + offset, url, context, context.new_page(), path, size))
    return students


# One round trip per page per polling round: is the script run over, is an exception shown, which of the
# wanted texts are on the page, and every "1. Original, W × H" caption (to catch another session's picture).
_PROBE_JS = """needles => {
    const app = document.querySelector('[data-testid="stApp"]');
    const text = document.body ? document.body.textContent : "";
    return {rendered: !!app && app.getAttribute("data-test-script-state") === "notRunning",
            exception: !!document.querySelector('[data-testid="stException"]'),
            found: needles.map(needle => text.includes(needle)),
            captions: text.match(/1\\. Original, \\d+ × \\d+?(?=2\\. Resized|\\D|$)/g) || [],
            explained: text.match(/Explaining upload: [^ (]+/g) || []};
}"""


@dataclass(frozen=True)
class Probe:
    rendered: bool
    exception: bool
    found: tuple[bool, ...]
    captions: frozenset[str]
    explained: frozenset[str]

    @property
    def done(self) -> bool:
        return self.rendered and all(self.found)


def probe(page: Page, needles: Sequence[str]) -> Probe:
    answer = page.evaluate(_PROBE_JS, list(needles))
    return Probe(answer["rendered"], answer["exception"], tuple(answer["found"]), frozenset(answer["captions"]),
                 frozenset(answer["explained"]))


def shows(page: Page, text: str) -> bool:
    return probe(page, [text]).done


ACT_TIMEOUT_MS = 5_000  # one control on one page; the others wait meanwhile, so keep it short and retry


def choose_upload(page: Page) -> None:
    page.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).first.click(timeout=ACT_TIMEOUT_MS)


def upload(page: Page, path: Path) -> None:
    uploader = page.get_by_test_id("stFileUploader").locator('input[type="file"]').first
    uploader.set_input_files(str(path), timeout=ACT_TIMEOUT_MS)


def open_tab(page: Page, title: str) -> None:
    page.get_by_role("tab", name=title).click(timeout=ACT_TIMEOUT_MS)


def _open_forward_pass(student: Student) -> None:
    response = student.page.goto(f"{student.url}/?view=Forward+pass&forward_source=Upload", wait_until="commit")
    served_by = response.headers.get("x-explorer-server", "") if response else ""
    student.served_by = served_by.split(",")[-1].strip()  # "a, b": a refused, b answered


@dataclass(frozen=True)
class Step:
    """Do ``act``, then wait until the page has rendered and shows every one of ``needles``: the step's latency
    is the time between. ``absent`` texts must not be on the page either."""

    name: str
    act: Callable[[Student], None]
    needles: Callable[[Student], Sequence[str]]
    absent: tuple[str, ...] = ()


TOP5 = "Top-5 predictions"
OPEN = Step("open", _open_forward_pass, lambda s: ["Choose a file"])  # the teacher's link opens the uploader
FORWARD: tuple[Step, ...] = (
    OPEN,
    Step("forward", lambda s: upload(s.page, s.photo), lambda s: [TOP5, s.caption]),
)
# Explain: the student's own photo again (each view keeps its own picker), Grad-CAM and guided backprop on it,
# the view's default methods; its caption names the file, so another session's picture would show.
GRADCAM_CAPTION = "Grad-CAM at conv5_3 (features.28)"
EXPLAIN: tuple[Step, ...] = (
    Step("explain-open", lambda s: open_tab(s.page, "Explain"), lambda s: ["Where it looked"]),
    Step("explain-upload-open", lambda s: choose_upload(s.page), lambda s: ["Choose a file"]),
    Step("gradcam", lambda s: upload(s.page, s.photo),
         lambda s: [s.explained, GRADCAM_CAPTION, "Guided backprop: class"]),
)
COMPARE = Step("compare", lambda s: open_tab(s.page, "Compare"), lambda s: [*COMPARE_TOTALS, "Stage by stage"])
SESSION: tuple[Step, ...] = (*FORWARD, *EXPLAIN, COMPARE)


# How long a class may take before the harness gives up: a safety net against a hung page, not a goal (the
# latencies are recorded, not asserted). Thirty sessions took 543 s on two cores shared with a test suite
# before Explain was a step; a loaded CI machine needs the margin.
BASE_TIMEOUT_S, TIMEOUT_S_PER_SESSION = 300, 45


def drive(students: Sequence[Student], steps: Sequence[Step] = SESSION, *, timeout: float | None = None,
          poll_s: float = 0.25) -> None:
    """Take every student through ``steps`` (from step 0) until all are done, each at its own pace."""
    if timeout is None:
        timeout = BASE_TIMEOUT_S + TIMEOUT_S_PER_SESSION * len(students)
    for student in students:
        student.step, student.acted_at = 0, None
    started = time.perf_counter()
    while any(student.step < len(steps) for student in students):
        for student in students:
            if student.step < len(steps):
                _advance(student, steps[student.step])
        if time.perf_counter() - started > timeout:
            stuck = {s.index: steps[s.step].name for s in students if s.step < len(steps)}
            raise TimeoutError(f"sessions still waiting (index: step): {stuck}")
        time.sleep(poll_s)


def _advance(student: Student, step: Step) -> None:
    if student.acted_at is None:
        try:
            step.act(student)
        except PlaywrightTimeoutError:  # a page too busy to find the control yet: again next round
            student.retries += 1
            return
        student.acted_at = time.perf_counter()
        return
    needles = step.needles(student)
    seen = probe(student.page, [*needles, *step.absent])
    wanted = len(needles)
    if seen.exception:
        student.problems.append(f"an exception is shown at step {step.name}")
    if seen.rendered and all(seen.found[:wanted]) and not any(seen.found[wanted:]):
        student.times[step.name] = time.perf_counter() - student.acted_at
        if student.caption in needles:  # its own picture is on the page: is any other?
            student.captions_seen |= seen.captions
        if student.explained in needles:
            student.explained_seen |= seen.explained
        student.step, student.acted_at = student.step + 1, None


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50 and p95 (linear interpolation between the closest ranks), and the max, in seconds."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return {"p50": ordered[0], "p95": ordered[0], "max": ordered[0]}
    cuts = statistics.quantiles(ordered, n=20, method="inclusive")
    return {"p50": round(statistics.median(ordered), 2), "p95": round(cuts[18], 2), "max": round(ordered[-1], 2)}


def latency_figures(students: Sequence[Student]) -> dict[str, dict[str, float]]:
    """Percentiles of each step, and of a whole session (its steps added up)."""
    names = list(dict.fromkeys(name for student in students for name in student.times))
    figures = {name: percentiles([s.times[name] for s in students if name in s.times]) for name in names}
    figures["session"] = percentiles([sum(s.times.values()) for s in students])
    return figures


def close(students: Sequence[Student]) -> None:
    for student in students:
        student.context.close()


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started

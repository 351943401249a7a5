"""Run every benchmark one after the other and print the README's tables (--markdown) or one JSON object.

    python benchmarks/run_all.py [--markdown] [--only analysis forward perf] [--device cpu]

Each script runs in its own interpreter (so one's memory and thread pools do not colour the next's
figures), with its default settings; ``--device`` goes to those that take one. A script that does
not offer --markdown has its JSON printed in a code block instead.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = {  # name -> (script, docs section its tables belong to, extra arguments)
    "analysis": ("bench_analysis.py", "Analysis", ()),
    "forward": ("bench_forward.py", "Forward pass against its peers and the roofline", ("--emulated-bf16",)),
    "perf": ("bench_perf.py", "Performance", ()),
    "explain": ("bench_explain.py", "Explain: attribution and dense evaluation", ()),
    "pointing": ("bench_pointing.py", "Explain: the pointing game", ()),
}
TIMEOUT_S = 3600


def _help(script: Path) -> str:
    return subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120).stdout


def run_one(name: str, markdown: bool, device: str | None) -> tuple[str, float]:
    """The script's stdout (its tables or its JSON) and how long it took; its stderr passes through."""
    script = HERE / BENCHMARKS[name][0]
    options = _help(script)
    command = [sys.executable, str(script), *BENCHMARKS[name][2]]
    if device is not None and "--device" in options:
        command += ["--device", device]
    wants_markdown = markdown and "--markdown" in options
    if wants_markdown:
        command.append("--markdown")
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True, timeout=TIMEOUT_S)
    output = result.stdout.strip()
    if markdown and not wants_markdown:
        output = f"```json\n{output}\n```"
    return output, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the README's tables, one section each")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=list(BENCHMARKS))
    parser.add_argument("--device", default=None, help="passed to the benchmarks that take --device")
    args = parser.parse_args()
    sections, reports = [], {}
    for name in args.only:
        print(f"running {BENCHMARKS[name][0]} ...", file=sys.stderr)
        output, seconds = run_one(name, args.markdown, args.device)
        print(f"  done in {seconds:.0f} s", file=sys.stderr)
        sections.append(f"### {BENCHMARKS[name][1]}\n\n{output}")
        reports[name] = None if args.markdown else json.loads(output)
    print("\n\n".join(sections) if args.markdown else json.dumps(reports, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

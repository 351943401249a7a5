"""``vgg-explorer``: start the Streamlit app from any directory (the installed package's app.py).

Arguments are Streamlit's own: ``vgg-explorer --server.port 8502 --server.address 0.0.0.0``.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")


def main() -> int:
    from streamlit.web import cli  # imported here: ``--help`` of other tools need not pay for it

    sys.argv = ["streamlit", "run", str(APP), *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())

"""Generate a kernel source from its Tempita template (meson.build runs this).

    python tempita.py lanes.c.in -o lanes.c

Tempita ships with Cython (``Cython.Tempita``), which builds lucy anyway.
The output starts with a line naming the template it came from.
"""

from __future__ import annotations

import argparse
import os

from Cython import Tempita


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    with open(args.template, encoding="utf-8") as f:
        text = f.read()
    name = os.path.basename(args.template)
    body: str = Tempita.Template(text, name=name).substitute()  # type: ignore[no-untyped-call]
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(f"/* Generated from {name} by tempita.py: edit the template, not this file. */\n")
        f.write(body)


if __name__ == "__main__":
    main()

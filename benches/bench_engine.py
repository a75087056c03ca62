"""Throughput of the sgdfast engine against the pure-numpy reference, measured in one run.

The book's workload: [784, 30, 10], m = 10, λ = 5, one epoch over the first N MNIST training
images (random pixels if MNIST is not found); see ``sgdfast._bench`` for what is counted.
This is ``sgdfast bench``, with the same options:

    python benches/bench_engine.py                 # full: table, scaling, memory
    python benches/bench_engine.py --short         # CI smoke run
    python benches/bench_engine.py --models 1 4 16 64 256 --plot docs/throughput.png
                                                   # the README's table and figure
"""

from __future__ import annotations

import sys

from sgdfast.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))

"""Run the benchmarks: python -m bench [--quick] [--only NAME]"""
import sys

from bench.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""Smoke runs of every benchmark with tiny sizes: each must still produce well-formed figures.

No timing is asserted here (the machine is shared and noisy); ./dev bench measures.
"""
import math
import os
import shutil

import pytest

from bench import cli
from bench.figures import Row
from bench.plan import SMOKE
from bench.stack import Lab
from shared.config import PROJECT_ROOT


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One set of systems for all the smoke runs, stopped at the end."""
    if not shutil.which("node") or not os.path.isdir(os.path.join(PROJECT_ROOT, "node_modules", "ws")):
        # Node is for the benchmarks only, not a prerequisite of the system or of ./dev test.
        message = ("the benchmarks' load clients need Node.js and node_modules "
                   "(apt-get install nodejs npm, then npm ci)")
        if os.environ.get("CI"):
            pytest.fail(message)  # .ci/run installs them: a skip there would hide a broken setup
        pytest.skip(message)
    with Lab(str(tmp_path_factory.mktemp("bench-logs"))) as lab:
        yield lab


def well_formed(row):
    """Tell whether a row is a measured figure the table can print."""
    numbers = [value for value in (row.ours, row.baseline, row.floor, row.ratio) if value is not None]
    return (isinstance(row, Row) and row.figure[:1].isdigit() and row.unit and row.ours is not None
            and all(isinstance(value, (int, float)) and math.isfinite(value) for value in numbers)
            and row.met in (True, False, None))


@pytest.mark.parametrize("name", list(cli.FIGURES))
def test_benchmark_produces_well_formed_figures(lab, name):
    rows, data = cli.run_figures([name], SMOKE, lab.log_dir, log=lambda line: None, lab=lab)
    assert rows, f"{name} produced no figure"
    assert all(well_formed(row) for row in rows), [row for row in rows if not well_formed(row)]
    assert isinstance(data[name], dict)

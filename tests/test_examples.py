"""The README's examples run, and print what the README says they print."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_quickstart_closed_form_and_gradcheck():
    out = run_example("quickstart.py")
    assert "closed form matches: True" in out
    assert "gradcheck: True" in out


def test_xor_mlp_learns():
    lines = run_example("train_xor.py").strip().splitlines()
    accuracy = float(lines[-1].split()[-1].rstrip("%"))
    assert accuracy > 95.0
    # README: "Loss 0.710 -> 0.038 in 300 steps, 99.6% accuracy" (the same under each BLAS kernel measured)
    assert lines[0] == "step   0  loss 0.710" and lines[-2] == "step 300  loss 0.038"
    assert lines[-1] == "accuracy 99.6%"


def test_lstm_learns_the_mean():
    lines = run_example("train_lstm.py").strip().splitlines()
    assert lines[0] == "step   0  loss 0.0555"  # README: "The loss falls from 0.0555 to below 1e-4"
    assert lines[-1].startswith("step 300")
    assert float(lines[-1].split()[-1]) < 1e-4


@pytest.mark.parametrize("k,upper", [(40, 1e-1), (0, 1e-8)])
def test_jacobian_products_vanish_with_distance(k, upper):
    out = run_example("jacobians_through_time.py")
    assert "closed form: True" in out
    line = next(s for s in out.splitlines() if s.startswith(f"||dh_T/dh_{k:<2d}||"))
    assert float(line.split("=")[1]) < upper

"""Hidden graded tests of task 7.1, ``clip_grad_norm_``: PyTorch's formula, the norm, edge cases.

The piece runs in the sealed process (``probes/probes_clip.py``: parameters whose gradients are
set by hand, no backward pass); the expected values are computed here.
"""

import math

import numpy as np
from hidden_oracle import ask, expect_close

PIECE = "minigrad.nn.utils.clip_grad_norm_"


def clip(sealed, grads, max_norm, **kwargs):
    answer = ask(sealed, PIECE, "probes_clip", "clip", grads=grads, max_norm=max_norm, **kwargs)
    if answer["error"] and answer["error"][0] == "NotImplementedError":
        raise AssertionError(f"{PIECE}: NotImplementedError: {answer['error'][1]}")
    return answer


def test_norm_is_returned_and_gradients_scaled_by_pytorchs_coefficient(sealed):
    grads = [np.array([3.0, 0.0]), np.array([[4.0, 0.0], [0.0, 12.0]])]  # total 2-norm 13
    answer = clip(sealed, grads, 1.0)
    made = "gradients [3, 0] and [[4, 0], [0, 12]], max_norm 1"
    assert answer["total"] is not None and math.isclose(answer["total"], 13.0, rel_tol=1e-15), (
        f"{PIECE}: must return the total 2-norm 13, got {answer['total']} ({made})")
    coef = 1.0 / (13.0 + 1e-6)
    for k, g in enumerate(grads):
        expect_close(answer["grads"][k], g * coef, what=f"gradient {k} after clipping (times 1 / (13 + 1e-6))",
                     piece=PIECE, made=made)  # fmt: skip


def test_small_gradients_are_left_exactly_alone(sealed):
    answer = clip(sealed, [np.array([0.3, -0.4])], 1.0)
    assert answer["total"] is not None and math.isclose(answer["total"], 0.5, rel_tol=1e-12), (
        f"{PIECE}: the norm of [0.3, -0.4] is 0.5, got {answer['total']}")
    got = answer["grads"][0]
    assert got is not None and np.array_equal(got, [0.3, -0.4]), (
        f"{PIECE}: a gradient under max_norm must be left exactly as it is, got {got}")


def test_other_norms_and_generators(sealed):
    grads = [np.array([1.0, -7.0]), np.array([2.0])]
    for kwargs, expected in [({"norm_type": math.inf, "as_iterator": True}, 7.0), ({"norm_type": 1.0}, 10.0),
                             ({"norm_type": "inf"}, 7.0)]:  # fmt: skip
        answer = clip(sealed, grads, 100.0, **kwargs)
        assert answer["total"] == expected, f"{PIECE}({kwargs}): the norm must be {expected}, got {answer['total']}"
    answer = clip(sealed, grads, 5.0, norm_type="inf")
    expect_close(answer["grads"][0], np.array([1.0, -7.0]) * 5 / (7 + 1e-6), what="the gradient after clipping",
                 piece=PIECE, made="gradients [1, -7] and [2], max_norm 5, norm_type 'inf'")  # fmt: skip


def test_parameters_without_grad_are_skipped_and_none_gives_zero(sealed):
    answer = clip(sealed, [None, None], 1.0)
    assert answer["total"] == 0.0, f"{PIECE}: no gradients at all give the norm 0.0, got {answer['total']}"
    answer = clip(sealed, [np.array([6.0, 8.0]), None], 1.0)
    assert answer["total"] is not None and math.isclose(answer["total"], 10.0, rel_tol=1e-12), (
        f"{PIECE}: gradients [6, 8] and None give the norm 10, got {answer['total']}")
    assert answer["grads"][1] is None, f"{PIECE}: a parameter without a gradient must keep grad None"


def test_float32_gradients_stay_float32(sealed):
    answer = clip(sealed, [np.array([3.0, 4.0, 0.0])], 1.0, float32=True)
    assert answer["dtypes"][0] == "float32", f"{PIECE}: a float32 gradient must stay float32, got {answer['dtypes'][0]}"
    expect_close(answer["grads"][0], [0.6, 0.8, 0.0], what="the float32 gradient after clipping", piece=PIECE,
                 made="gradient [3, 4, 0] in float32, max_norm 1", rtol=1e-6, atol=1e-7)  # fmt: skip


def test_nonfinite_norm(sealed):
    answer = clip(sealed, [np.array([np.inf, 1.0])], 1.0, error_if_nonfinite=True)
    error = answer["error"]
    assert error and "RuntimeError" in error[2] and "inf" in error[1], (
        f"{PIECE}: a non-finite norm with error_if_nonfinite=True must raise RuntimeError naming inf, got {error}")
    assert np.array_equal(answer["grads"][0], [np.inf, 1.0]), f"{PIECE}: the gradients are untouched after the error"
    answer = clip(sealed, [np.array([np.inf, 1.0])], 1.0)
    assert answer["total"] is not None and math.isinf(answer["total"]), f"{PIECE}: the norm of [inf, 1] is inf"
    # PyTorch's behaviour: coefficient 1 / (inf + 1e-6) = 0, and inf * 0 is NaN
    assert np.array_equal(answer["grads"][0], [np.nan, 0.0], equal_nan=True), (
        f"{PIECE}: with an inf norm the gradient becomes [nan, 0] (inf * 0), got {answer['grads'][0]}")
    answer = clip(sealed, [np.array([np.nan, 1.0])], 1.0)
    assert answer["total"] is not None and math.isnan(answer["total"]), f"{PIECE}: the norm of [nan, 1] is nan"
    assert np.all(np.isnan(answer["grads"][0])), f"{PIECE}: a nan norm makes every gradient entry nan"

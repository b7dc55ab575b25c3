"""The public surface: every exported name documented and typed; NumPy-named functions work."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing

import numpy as np
import pytest
from hypothesis import given

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import ops
from minigrad.testing import arrays, assert_gradients_match, broadcastable_shapes, floats


def _public_objects():
    for name in mg.__all__:
        obj = getattr(mg, name)
        if not inspect.ismodule(obj):
            yield name, obj
    for name in ops.__all__:
        obj = getattr(ops, name)
        if inspect.isclass(obj):
            yield f"ops.{name}", obj
    for name, obj in vars(F).items():
        if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__ == F.__name__:
            yield f"nn.functional.{name}", obj


PUBLIC = sorted(_public_objects(), key=lambda item: item[0])


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_names_have_docstrings_and_return_hints(name, obj):
    assert inspect.getdoc(obj), f"minigrad.{name} has no docstring"
    if inspect.isfunction(obj):
        hint = inspect.signature(obj).return_annotation
        assert hint is not inspect.Signature.empty, f"minigrad.{name} has no return type hint"


def _tensor_methods():
    # tensor_math.py, tensor_methods.py and inplace.py assign their functions onto the class itself
    for name, value in vars(mg.Tensor).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            yield name, value.fget
        elif inspect.isfunction(value):
            yield name, value


@pytest.mark.parametrize("name, fn", sorted(_tensor_methods()), ids=lambda v: str(v)[:30])
def test_tensor_methods_have_docstrings_and_return_hints(name, fn):
    assert inspect.getdoc(fn), f"Tensor.{name} has no docstring"
    hint = inspect.signature(fn).return_annotation
    assert hint is not inspect.Signature.empty, f"Tensor.{name} has no return type hint"


def test_all_lists_only_existing_names():
    missing = [n for n in mg.__all__ if not hasattr(mg, n)]
    assert not missing


def test_import_minigrad_does_not_import_hypothesis():
    code = (
        "import sys, minigrad, minigrad.nn, minigrad.nn.functional\n"
        "assert 'hypothesis' not in sys.modules, 'import minigrad pulled in hypothesis'\n"
        "assert 'scipy' not in sys.modules and 'torch' not in sys.modules\n"
        "import minigrad.testing\n"
        "assert 'hypothesis' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_all_ops_is_a_tuple_of_op_classes():
    assert isinstance(ops.ALL_OPS, tuple) and len(set(ops.ALL_OPS)) == len(ops.ALL_OPS)
    for op in ops.ALL_OPS:
        assert issubclass(op, ops.Op) and op.__doc__
        assert "__slots__" in vars(op), f"{op.__name__} must declare __slots__"


# ----- NumPy-named functions over the operators ----------------------------------------------
NUMPY_PAIRS = [
    (mg.add, np.add), (mg.subtract, np.subtract), (mg.multiply, np.multiply),
    (mg.maximum, np.maximum), (mg.minimum, np.minimum),
]  # fmt: skip


@pytest.mark.parametrize("ours, theirs", NUMPY_PAIRS, ids=lambda f: f.__name__)
@given(shapes=broadcastable_shapes(2), data=arrays((7,)))
def test_numpy_named_binary_functions(ours, theirs, shapes, data):
    a = np.resize(data, shapes[0])
    b = np.resize(data[::-1] + 0.3125, shapes[1])  # + 5/16: no ties for maximum / minimum
    np.testing.assert_array_equal(ours(a, b).data, theirs(a, b))
    assert_gradients_match(ours, [a, b])


@given(arrays((2, 3), away_from=[0.0]), arrays((3,), away_from=[0.0], margin=0.5))
def test_divide_power_negative(a, b):
    np.testing.assert_array_equal(mg.divide(a, b).data, a / b)
    np.testing.assert_array_equal(mg.negative(a).data, -a)
    assert_gradients_match(mg.divide, [a, b])
    assert_gradients_match(lambda x, y: mg.power(x.abs() + 0.5, y), [a, b])  # |a| > 0: off the kink


@given(floats(-2, 2))
def test_functions_accept_python_numbers(v):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    for fn in (mg.add, mg.subtract, mg.multiply, mg.maximum, mg.minimum):
        assert fn(v, x).requires_grad and fn(x, v).requires_grad
        assert fn(v, x).shape == (2,)


FULLY_TYPED_MODULES = (
    "minigrad.functional", "minigrad.autodiff", "minigrad.gradcheck", "minigrad.dtypes",
    "minigrad.testing",
)  # fmt: skip


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_function_parameters_have_type_hints(name, obj):
    if not inspect.isfunction(obj) or obj.__module__ not in FULLY_TYPED_MODULES:
        return
    untyped = [
        p for p, v in inspect.signature(obj).parameters.items()
        if v.annotation is inspect.Parameter.empty
    ]  # fmt: skip
    assert not untyped, f"minigrad.{name}: parameters without type hints: {untyped}"
    typing.get_type_hints(obj)  # the hints must also resolve (no undefined names)


def _check_site():
    # .ci/check_site.py holds the rule for what counts as public; its browser part is not imported here
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / ".ci" / "check_site.py"
    spec = importlib.util.spec_from_file_location("check_site", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _autodoc_ids():
    """The dotted names the API pages give an entry: what autodoc documents of each automodule."""
    import importlib
    import re
    from pathlib import Path

    pages = (Path(__file__).resolve().parents[1] / "docs" / "site" / "api").glob("*.md")
    ids = set()
    for page in pages:
        for name in re.findall(r"\.\. automodule:: (\S+)", page.read_text(encoding="utf-8")):
            module = importlib.import_module(name)
            members = getattr(module, "__all__", None)
            if members is None:
                members = [n for n, v in vars(module).items() if getattr(v, "__module__", None) == name]
            ids |= {f"{name}.{n}" for n in members}
    return ids


def test_every_public_name_of_the_api_modules_has_an_entry_on_the_api_pages():
    # the same rule CI's browser check applies to the built site, here without building it: a name
    # imported into a module without __all__ (e.g. an argument checker) would otherwise look public
    site, ids = _check_site(), _autodoc_ids()
    missing = [public for module in site.API_MODULES for public, *elsewhere in site.public_names(module)
               if public not in ids and not ids.intersection(elsewhere)]  # fmt: skip
    assert not missing, f"public names without an API entry (add __all__ or document them): {missing}"

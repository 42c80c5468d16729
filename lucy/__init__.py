"""lucy: batched LU factorisation with partial pivoting.

A drop-in, much faster replacement for :func:`scipy.linalg.lu_factor`,
:func:`scipy.linalg.lu` and :func:`scipy.linalg.lu_solve` on stacks of
matrices ``(..., M, N)``, factored in parallel with the GIL released.

Conventions: pivots ``piv`` are int32, 0-based LAPACK row swaps (SciPy's);
``lu`` matrices are column-major; results have SciPy's dtype for the input.
"""

import os as _os


def _use_installed_lucy(exc: ImportError) -> None:
    """Put the installed lucy in place of this unbuilt source folder.

    ``python -m lucy`` run in the root of a clone puts that root first on
    ``sys.path``, so Python finds the source folder, which has no compiled
    extensions. If lucy is installed elsewhere on the path, that copy is
    loaded and registered as ``lucy``; the rest of this file then imports
    from it, and the import returns it."""
    import importlib.machinery
    import importlib.util
    import sys
    here = _os.path.dirname(_os.path.abspath(__file__))
    if not _os.path.exists(_os.path.join(here, "meson.build")):
        raise exc                       # an installed lucy that is broken
    root = _os.path.dirname(here)
    elsewhere = [p for p in sys.path if _os.path.abspath(p or _os.curdir) != root]
    spec = importlib.machinery.PathFinder.find_spec("lucy", elsewhere)
    if spec is None or spec.origin is None or spec.loader is None:
        raise ImportError(
            "lucy is being imported from its source folder, which has no compiled "
            "extensions, and no installed lucy was found: install it with "
            "'pip install .'") from exc
    installed = importlib.util.module_from_spec(spec)
    sys.modules["lucy"] = installed
    spec.loader.exec_module(installed)


# libgomp reads OMP_WAIT_POLICY once, when it is loaded (with lucy's kernels,
# just below). Its default spins each idle thread for a while before it
# sleeps; measured on 2-core virtual machines, those spinning threads made two
# workers slower than one (24 ms vs 15 ms for 100000 4 x 4 matrices), while
# PASSIVE gave the full 2x. Passive waiting costs microseconds per parallel
# region, and lucy only goes parallel above tens of microseconds of work.
# A user's own setting wins; lucy's is removed again at once, so child
# processes and other libraries loaded later never see it.
_set_wait_policy = "OMP_WAIT_POLICY" not in _os.environ
if _set_wait_policy:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
try:
    from . import _batch
except ImportError as _exc:
    _use_installed_lucy(_exc)
finally:
    if _set_wait_policy:
        del _os.environ["OMP_WAIT_POLICY"]

from ._api import lu, lu_factor, lu_factor_ex, lu_solve, lu_unpack
from ._pivots import permutation_to_pivots, pivots_to_permutation
from ._config import show_config
from ._outputs import empty_cache
from ._threads import get_workers, set_workers

from . import _build_config, _config

__version__ = _build_config.version

# A build that fell back to serial kernels says so here, not only in a build
# log that pip hides (see _config.openmp_warning for when).
_config._warn_if_openmp_is_missing()

__all__ = [
    "lu_factor",
    "lu_factor_ex",
    "lu",
    "lu_solve",
    "lu_unpack",
    "pivots_to_permutation",
    "permutation_to_pivots",
    "set_workers",
    "get_workers",
    "show_config",
    "empty_cache",
    "get_include",
]


def get_include() -> str:
    """Directory holding lucy's installed ``.pxd`` files.

    Add it to Cython's include path to ``cimport`` lucy (for example
    ``cython -I $(python -c "import lucy; print(lucy.get_include())")``;
    the directory that contains the ``lucy`` package is returned).

    Examples
    --------
    >>> import os, lucy
    >>> os.path.exists(os.path.join(lucy.get_include(), "lucy", "cython_lu.pxd"))
    True
    """
    return _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))

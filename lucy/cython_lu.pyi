"""lucy's C-level API, for Cython code: ``cimport lucy.cython_lu``.

The module has no public Python functions; its ``noexcept nogil`` C functions are
declared and documented in ``cython_lu.pxd`` (directory: ``lucy.get_include()``)
and reached from Cython through ``__pyx_capi__``.
"""

__pyx_capi__: dict[str, object]

def _openmp_threads_started() -> bool: ...
def _use_kernels(name: str) -> None: ...
def _kernel_tier() -> str: ...

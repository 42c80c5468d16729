"""cython_lu's C functions called from Python through ctypes, as compiled
Cython code calls them (with the GIL released), for the tests that run in a
fresh interpreter and cannot build the twins there."""

import ctypes

import lucy.cython_lu

_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype, _get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype, _get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]

_SSIZE, _PTR = ctypes.c_ssize_t, ctypes.c_void_p


def signatures():
    """{name: C signature} of cython_lu's exported functions, from the
    capsule names in ``__pyx_capi__``."""
    return {name: _get_name(capsule).decode()
            for name, capsule in lucy.cython_lu.__pyx_capi__.items()}


def dlu_factor_batch_parallel():
    """``int dlu_factor_batch_parallel(batch, m, n, a, batch_stride,
    row_stride, col_stride, piv, piv_stride, info, work, num_threads)``."""
    capsule = lucy.cython_lu.__pyx_capi__["dlu_factor_batch_parallel"]
    signature = ctypes.CFUNCTYPE(ctypes.c_int, _SSIZE, _SSIZE, _SSIZE, _PTR, _SSIZE, _SSIZE,
                                 _SSIZE, _PTR, _SSIZE, _PTR, _PTR, ctypes.c_int)
    return signature(_get_pointer(capsule, _get_name(capsule)))

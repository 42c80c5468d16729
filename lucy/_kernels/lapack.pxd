# The one place where lucy meets LAPACK.
#
# Every kernel reaches LAPACK through SciPy's ``cython_lapack`` (function
# pointers filled in when ``scipy.linalg.cython_lapack`` is imported), so lucy
# uses exactly the LAPACK/BLAS that SciPy was built with and links none itself.
cimport cython
from scipy.linalg cimport cython_blas, cython_lapack

# LAPACK's integer, ``lapack_int``: the one alias every LAPACK integer goes
# through. It is detected at build time: detect_lapack_int.py (beside this
# file) reads the integer type of ``dgetrf`` in SciPy's cython_lapack.pxd and
# meson writes the matching declaration to the generated ``_lapack_int.pxi``
# (in the build directory). SciPy's cython_lapack is LP64 (C ``int``) on all of its
# builds today, also where its Fortran library is ILP64 (SciPy then provides
# LP64 shims); an ILP64 interface would give a 64-bit alias here with no
# other edit. ``lapack_int_size`` in the batch module reports the width.
include "_lapack_int.pxi"

ctypedef fused lapack_t:
    float
    double
    float complex
    double complex


cdef inline void getrf(lapack_int m, lapack_int n, lapack_t* a, lapack_int lda,
                       lapack_int* ipiv, lapack_int* info) noexcept nogil:
    """``?getrf``: LU with partial pivoting of an M x N column-major matrix."""
    if lapack_t is float:
        cython_lapack.sgetrf(&m, &n, a, &lda, ipiv, info)
    elif lapack_t is double:
        cython_lapack.dgetrf(&m, &n, a, &lda, ipiv, info)
    elif lapack_t is cython.floatcomplex:
        cython_lapack.cgetrf(&m, &n, a, &lda, ipiv, info)
    else:
        cython_lapack.zgetrf(&m, &n, a, &lda, ipiv, info)


cdef inline void getrs(char trans, lapack_int n, lapack_int nrhs, lapack_t* a,
                       lapack_int lda, lapack_int* ipiv, lapack_t* b,
                       lapack_int ldb, lapack_int* info) noexcept nogil:
    """``?getrs``: solve with the factors of ``?getrf`` (1-based ``ipiv``)."""
    if lapack_t is float:
        cython_lapack.sgetrs(&trans, &n, &nrhs, a, &lda, ipiv, b, &ldb, info)
    elif lapack_t is double:
        cython_lapack.dgetrs(&trans, &n, &nrhs, a, &lda, ipiv, b, &ldb, info)
    elif lapack_t is cython.floatcomplex:
        cython_lapack.cgetrs(&trans, &n, &nrhs, a, &lda, ipiv, b, &ldb, info)
    else:
        cython_lapack.zgetrs(&trans, &n, &nrhs, a, &lda, ipiv, b, &ldb, info)


cdef inline void laswp(lapack_int n, lapack_t* a, lapack_int lda, lapack_int k1,
                       lapack_int k2, lapack_int* ipiv) noexcept nogil:
    """``?laswp``: row interchanges k1..k2 (1-based ``ipiv``) on n columns."""
    cdef lapack_int inc = 1
    if lapack_t is float:
        cython_lapack.slaswp(&n, a, &lda, &k1, &k2, ipiv, &inc)
    elif lapack_t is double:
        cython_lapack.dlaswp(&n, a, &lda, &k1, &k2, ipiv, &inc)
    elif lapack_t is cython.floatcomplex:
        cython_lapack.claswp(&n, a, &lda, &k1, &k2, ipiv, &inc)
    else:
        cython_lapack.zlaswp(&n, a, &lda, &k1, &k2, ipiv, &inc)


cdef inline void trsm_left(char uplo, char diag, lapack_int m, lapack_int n, lapack_t* a,
                           lapack_int lda, lapack_t* b, lapack_int ldb) noexcept nogil:
    """``?trsm``: B := T^-1 B with T the lower (uplo b'L') or upper (b'U')
    triangle of the m x m A, unit (diag b'U') or not (b'N')."""
    cdef char side = b'L', trans = b'N'
    cdef lapack_t one = 1
    if lapack_t is float:
        cython_blas.strsm(&side, &uplo, &trans, &diag, &m, &n, &one, a, &lda, b, &ldb)
    elif lapack_t is double:
        cython_blas.dtrsm(&side, &uplo, &trans, &diag, &m, &n, &one, a, &lda, b, &ldb)
    elif lapack_t is cython.floatcomplex:
        cython_blas.ctrsm(&side, &uplo, &trans, &diag, &m, &n, &one, a, &lda, b, &ldb)
    else:
        cython_blas.ztrsm(&side, &uplo, &trans, &diag, &m, &n, &one, a, &lda, b, &ldb)


cdef inline void trsm_unit_lower(lapack_int m, lapack_int n, lapack_t* a,
                                 lapack_int lda, lapack_t* b,
                                 lapack_int ldb) noexcept nogil:
    """B := L^-1 B with L the unit lower triangle of the m x m A."""
    trsm_left(c'L', c'U', m, n, a, lda, b, ldb)


cdef inline void gemm_minus(lapack_int m, lapack_int n, lapack_int k,
                            lapack_t* a, lapack_int lda, lapack_t* b,
                            lapack_int ldb, lapack_t* c,
                            lapack_int ldc) noexcept nogil:
    """``?gemm``: C := C - A B (A m x k, B k x n)."""
    cdef char tr = b'N'
    cdef lapack_t minus_one = -1, one = 1
    if lapack_t is float:
        cython_blas.sgemm(&tr, &tr, &m, &n, &k, &minus_one, a, &lda, b, &ldb, &one, c, &ldc)
    elif lapack_t is double:
        cython_blas.dgemm(&tr, &tr, &m, &n, &k, &minus_one, a, &lda, b, &ldb, &one, c, &ldc)
    elif lapack_t is cython.floatcomplex:
        cython_blas.cgemm(&tr, &tr, &m, &n, &k, &minus_one, a, &lda, b, &ldb, &one, c, &ldc)
    else:
        cython_blas.zgemm(&tr, &tr, &m, &n, &k, &minus_one, a, &lda, b, &ldb, &one, c, &ldc)

# The only place lucy touches the OpenMP runtime. Without OpenMP at build time
# the stand-ins below make every parallel loop serial and report one thread,
# so no other file needs an ``#ifdef``.
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define LUCY_OPENMP_ENABLED 1
    #else
    #define LUCY_OPENMP_ENABLED 0
    static inline int omp_get_max_threads(void) { return 1; }
    static inline int omp_get_thread_num(void) { return 0; }
    static inline int omp_get_num_procs(void) { return 1; }
    #endif
    /* lucy starts at most this many threads per usable core (see
       lucy/_threads.py); more only fail to start or oversubscribe. */
    #define LUCY_THREADS_PER_CPU 4
    static inline int lucy_max_threads(void) {
        int procs = omp_get_num_procs();
        return LUCY_THREADS_PER_CPU * (procs > 0 ? procs : 1);
    }
    """
    bint LUCY_OPENMP_ENABLED
    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
    int omp_get_num_procs() noexcept nogil
    int LUCY_THREADS_PER_CPU
    int lucy_max_threads() noexcept nogil

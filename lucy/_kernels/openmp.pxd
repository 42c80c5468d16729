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

    /* A parallel region's hold on CPUs (lucy_team_spread): bit c set once
       a thread of the team runs on CPU c; the caller's CPU from the start. */
    typedef struct { unsigned long long claimed; int arrived; } lucy_team;

    #if defined(_OPENMP) && defined(__linux__)
    #include <sched.h>
    #endif
    static inline void lucy_team_init(lucy_team *team) {
        team->claimed = 0;
        team->arrived = 0;
    #if defined(_OPENMP) && defined(CPU_SET)
        const int cpu = sched_getcpu();
        if (cpu >= 0 && cpu < 64)
            team->claimed = 1ull << cpu;
    #endif
    }
    #if defined(_OPENMP) && defined(CPU_SET)
    /* Called by every thread at the start of a region whose threads wait on
       each other's tasks (the blocked LU, the blocked substitutions). Linux
       may queue a woken worker on its waker's CPU while another CPU idles
       (wake-affine placement; some guest kernels pack vCPUs on purpose),
       and there the worker and the caller share one CPU until a balancing
       tick, while each waits in turn for the other's tasks. A worker that
       finds its CPU held moves to an allowed CPU that none of the team
       holds, then takes its own CPU set back, so any binding (taskset,
       OMP_PROC_BIND) stays as it was. The caller yields once, so that a
       worker queued behind it runs now and can leave. Regions of
       independent items skip this: there a late worker only takes fewer
       items, while a move delays the region's end by the idle CPU's wake-up
       (bench/kernels.md). Nothing moves with one thread, more threads than
       CPUs, or a CPU number past 63. */
    static void lucy_team_spread(lucy_team *team)
    {
        const int nt = omp_get_num_threads();
        if (nt < 2 || nt > omp_get_num_procs() || team->claimed == 0)
            return;
        if (omp_get_thread_num() == 0) {
            if (__atomic_load_n(&team->arrived, __ATOMIC_ACQUIRE) < nt - 1)
                sched_yield();
            return;
        }
        const int cpu = sched_getcpu();
        if (cpu >= 0 && cpu < 64
                && (__atomic_fetch_or(&team->claimed, 1ull << cpu, __ATOMIC_ACQ_REL)
                    & (1ull << cpu))) {
            cpu_set_t mine, one;
            if (sched_getaffinity(0, sizeof mine, &mine) == 0)
                for (int c = 0; c < 64; c++) {
                    if (!CPU_ISSET(c, &mine)
                            || (__atomic_fetch_or(&team->claimed, 1ull << c, __ATOMIC_ACQ_REL)
                                & (1ull << c)))
                        continue;
                    CPU_ZERO(&one);
                    CPU_SET(c, &one);
                    if (sched_setaffinity(0, sizeof one, &one) == 0)
                        sched_setaffinity(0, sizeof mine, &mine);
                    break;
                }
        }
        __atomic_add_fetch(&team->arrived, 1, __ATOMIC_ACQ_REL);
    }
    #else
    static inline void lucy_team_spread(lucy_team *team) { (void)team; }
    #endif
    """
    bint LUCY_OPENMP_ENABLED
    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
    int omp_get_num_procs() noexcept nogil
    int LUCY_THREADS_PER_CPU
    int lucy_max_threads() noexcept nogil
    ctypedef struct lucy_team:
        unsigned long long claimed
        int arrived
    void lucy_team_init(lucy_team* team) noexcept nogil
    void lucy_team_spread(lucy_team* team) noexcept nogil

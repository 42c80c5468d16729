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

    /* A parallel region's hold on CPUs (lucy_team_hold): bit c set once a
       thread of the team holds CPU c; the caller's CPU from the start. 0: the
       region holds none. */
    typedef struct { unsigned long long claimed; int arrived; } lucy_team;

    #if defined(_OPENMP) && defined(__linux__)
    #include <sched.h>
    #endif
    /* By the caller, before a region; hold: whether its threads hold CPUs. */
    static inline void lucy_team_init(lucy_team *team, int hold) {
        team->claimed = 0;
        team->arrived = 0;
    #if defined(_OPENMP) && defined(CPU_SET)
        const int cpu = sched_getcpu();
        if (hold && cpu >= 0 && cpu < 64)
            team->claimed = 1ull << cpu;
    #else
        (void)hold;
    #endif
    }
    #if defined(_OPENMP) && defined(CPU_SET)
    /* The CPU set a thread had before lucy_team_hold, for lucy_team_release. */
    static __thread cpu_set_t lucy_held_saved;
    static __thread int lucy_held = 0;

    /* Called by every thread at the start of each of lucy's parallel
       regions: each thread keeps one CPU of its own until
       lucy_team_release, at the region's end. Why: Linux may queue a woken
       worker on its waker's CPU while another CPU idles (wake-affine
       placement), and some virtual machines' kernels pack vCPUs on purpose,
       pulling a thread that moved away back again; the threads then take
       turns on one CPU, and a call runs at one thread's speed in about half
       the calls after an idle spell (bench/kernels.md). A thread on a CPU no
       other thread of the team holds stays there; one whose CPU is taken
       moves to an allowed CPU that none of the team holds, the search
       starting after its own so that concurrent calls spread out. Only CPUs
       of the thread's own CPU set are used, and the set is given back at the
       region's end, so taskset and OMP_PROC_BIND bindings stay as they were.
       The caller yields once, so that a worker queued behind it runs now
       and can leave. Nothing happens with one thread, more threads than
       CPUs, or a CPU number past 63. */
    static void lucy_team_hold(lucy_team *team)
    {
        const int nt = omp_get_num_threads();
        if (nt < 2 || nt > omp_get_num_procs() || team->claimed == 0)
            return;
        const int cpu = sched_getcpu();
        if (cpu < 0 || cpu >= 64 || sched_getaffinity(0, sizeof lucy_held_saved,
                                                       &lucy_held_saved) != 0)
            return;
        /* (the caller claims its CPU again here, in case it moved since
           lucy_team_init, and keeps it whoever claimed it first) */
        int target = cpu;
        if ((__atomic_fetch_or(&team->claimed, 1ull << cpu, __ATOMIC_ACQ_REL) & (1ull << cpu))
                && omp_get_thread_num() != 0) {
            target = -1;
            for (int k = 1; k < 64 && target < 0; k++) {
                const int c = (cpu + k) % 64;
                if (CPU_ISSET(c, &lucy_held_saved)
                        && !(__atomic_fetch_or(&team->claimed, 1ull << c, __ATOMIC_ACQ_REL)
                             & (1ull << c)))
                    target = c;
            }
        }
        if (target >= 0) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(target, &one);
            lucy_held = sched_setaffinity(0, sizeof one, &one) == 0;
        }
        if (omp_get_thread_num() == 0) {
            if (__atomic_load_n(&team->arrived, __ATOMIC_ACQUIRE) < nt - 1)
                sched_yield();
        } else {
            __atomic_add_fetch(&team->arrived, 1, __ATOMIC_ACQ_REL);
        }
    }

    /* Each thread at the end of a region that began with lucy_team_hold. */
    static inline void lucy_team_release(void)
    {
        if (lucy_held) {
            sched_setaffinity(0, sizeof lucy_held_saved, &lucy_held_saved);
            lucy_held = 0;
        }
    }
    #else
    static inline void lucy_team_hold(lucy_team *team) { (void)team; }
    static inline void lucy_team_release(void) {}
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
    void lucy_team_init(lucy_team* team, bint hold) noexcept nogil
    void lucy_team_hold(lucy_team* team) noexcept nogil
    void lucy_team_release() noexcept nogil

/* The counters that the threads of one blocked LU share (_batch.pyx,
 * factor_blocked): a ticket that hands out the tasks in one fixed order, and
 * progress counters that a task waits on before it starts.
 *
 * Why not OpenMP's own tools: a `prange` per elimination step ends in a
 * barrier, where every thread waits for the slowest tile of the step (6% of
 * two cores idle at 3000 x 3000). Tasks that wait only for what they read
 * let a thread start the next step's tiles while the last tile of this step
 * is still running. OpenMP task dependencies would do the same, but GNU's
 * runtime schedules them in an order of its own; the ticket keeps the order
 * fixed, which also makes the wait deadlock-free: a task only waits for
 * tasks with smaller tickets, all of them already taken by running threads.
 *
 * Counters only grow. A waiter spins briefly (the usual wait is a fraction
 * of one tile, microseconds) and then yields its core, so more threads than
 * cores still make progress.
 */
#ifndef LUCY_TASK_QUEUE_H
#define LUCY_TASK_QUEUE_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#define LUCY_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
#define LUCY_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define LUCY_CPU_RELAX() ((void)0)
#endif

#if defined(_WIN32)
#include <windows.h>
#define LUCY_YIELD_CORE() SwitchToThread()
#else
#include <sched.h>
#define LUCY_YIELD_CORE() sched_yield()
#endif

#if defined(__GNUC__) || defined(__clang__)
static inline int64_t lucy_counter_get(const int64_t* c)
{ return __atomic_load_n(c, __ATOMIC_ACQUIRE); }
static inline void lucy_counter_set(int64_t* c, int64_t v)
{ __atomic_store_n(c, v, __ATOMIC_RELEASE); }
static inline int64_t lucy_counter_take(int64_t* c)
{ return __atomic_fetch_add(c, 1, __ATOMIC_ACQ_REL); }
#elif defined(_MSC_VER)
#include <intrin.h>
/* Interlocked calls are full barriers on every target (a volatile access
   orders nothing on ARM64 under /volatile:iso). */
static inline int64_t lucy_counter_get(const int64_t* c)
{ return _InterlockedOr64((volatile __int64*)c, 0); }
static inline void lucy_counter_set(int64_t* c, int64_t v)
{ _InterlockedExchange64((volatile __int64*)c, v); }
static inline int64_t lucy_counter_take(int64_t* c)
{ return _InterlockedExchangeAdd64((volatile __int64*)c, 1); }
#else
#error "lucy needs GCC, Clang or MSVC atomics"
#endif

/* counter_take: the value before adding one (the caller's ticket). */

static inline void lucy_counter_wait(const int64_t* c, int64_t at_least)
{
    unsigned spins = 0;
    while (lucy_counter_get(c) < at_least) {
        if (spins < 4096) {
            spins++;
            LUCY_CPU_RELAX();
        } else {
            LUCY_YIELD_CORE();
        }
    }
}

#endif

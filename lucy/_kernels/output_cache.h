/* Output memory that a repeated call can take back without page faults.
 *
 * Why: a fresh large output is mapped by the C library straight from the
 * kernel (glibc maps every block above 32 MiB itself and unmaps it on free),
 * so every call pays a page fault per page and the kernel's zeroing of it,
 * and on a virtual machine often the hypervisor's too. At 20000 x 16 x 16
 * (41 MB out) that was a third of lucy_factor's time (perf: clear_page_erms
 * 17.6 % against 23.5 % for the LU itself), and it is paid again on every
 * call of a loop that factors a new batch each step, the common use.
 *
 * What: lucy's own outputs of at least LUCY_CACHE_MIN_BYTES (4 MiB) are
 * allocated through this NumPy memory handler (set only around those
 * allocations; the array keeps it for its free). When such an array is freed its mapping is
 * kept, up to LUCY_CACHE_SLOTS mappings and a byte limit, and handed to the
 * kernel with MADV_FREE: the pages stay mapped, so reusing them costs no
 * fault and no zeroing, but the kernel may still take them back whenever it
 * needs memory (they then come back as zero pages on the next write, which
 * is equally correct). A later request of at least half a kept block's size
 * reuses it (new blocks are mapped a quarter longer than asked, so batches
 * of varying sizes find one). A block not taken within the next
 * LUCY_CACHE_SLOTS requests is released at the next request after that, so
 * a loop that alternates sizes (lu_factor, then lu_solve) keeps both, and
 * the blocks of sizes no longer asked for go once other large outputs are
 * asked for (or at lucy.empty_cache(), which releases everything now).
 *
 * A block below 32 MiB that the cache cannot serve comes from malloc
 * (glibc's heap, as every NumPy array of that size), not a new mapping; it
 * is kept the same way, only without MADV_FREE.
 *
 * Every block starts with a header (LUCY_CACHE_HEADER bytes, which keeps the
 * data 64-byte aligned) saying how it was obtained, because NumPy's realloc
 * passes no size. Small blocks, and platforms without mmap, use malloc.
 */
#ifndef LUCY_OUTPUT_CACHE_H
#define LUCY_OUTPUT_CACHE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <numpy/ndarraytypes.h>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#define LUCY_CACHE_MMAP 1
#else
#define LUCY_CACHE_MMAP 0
#endif

/* glibc maps every block of 32 MiB or more afresh (its mmap threshold never
 * rises above that). Smaller ones it serves from its heap, but gives the top
 * of the heap back to the kernel once twice the largest freed block is free
 * there: lu's L and U (12.8 MB each at 100000 x 4 x 4) faulted on every call
 * (1600 faults, 5.9 -> 3.0 ms once kept here). The 4 MiB floor (lu from
 * 31250 x 4 x 4 on) is a choice; smaller outputs were not measured. */
#define LUCY_CACHE_MIN_BYTES ((size_t)4 << 20)
#define LUCY_CACHE_SLOTS 8
#define LUCY_CACHE_HEADER 64

/* Below this, a block the cache cannot serve comes from malloc, glibc's
 * heap (the largest block glibc ever serves from it), not a new mapping.
 * Why: after lucy.empty_cache(), or on a first call, glibc's heap often
 * holds memory freed by earlier arrays, already faulted in: a new mapping
 * paid 3125 page faults and their zeroing at 100000 x 4 x 4 (12.8 MB out),
 * which made a call without the cache 5 times slower. Such blocks are kept
 * too (without MADV_FREE) and go back with free(). */
#define LUCY_HEAP_MAX_BYTES ((size_t)32 << 20)

enum { LUCY_BLOCK_MALLOC = 0x6d616c6c, LUCY_BLOCK_MAPPED = 0x6d617070,
       LUCY_BLOCK_HEAP = 0x68656170 };

typedef struct {
    uint32_t kind;          /* LUCY_BLOCK_MALLOC, _MAPPED or _HEAP (kept, from malloc) */
    size_t length;          /* bytes of the mapping, header included */
    size_t size;            /* bytes asked for (realloc copies no more) */
} lucy_block_header;

typedef struct {
    void *base[LUCY_CACHE_SLOTS];       /* kept mappings, oldest first */
    size_t length[LUCY_CACHE_SLOTS];
    uint64_t kept_at[LUCY_CACHE_SLOTS]; /* `requests` when each was kept */
    uint64_t requests;                  /* requests so far */
    int count;
    size_t bytes;                       /* sum of length[] */
    size_t limit;                       /* most bytes kept */
} lucy_output_cache;

static lucy_output_cache lucy_cache = {{0}, {0}, {0}, 0, 0, 0, 0};

#if LUCY_CACHE_MMAP
static pthread_mutex_t lucy_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t lucy_page_round(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + page - 1) / page * page;
}

/* Give a kept block back: free() for a heap block, munmap for a mapping
 * (whose header page the kernel may have taken back under MADV_FREE: it
 * then reads zero, not LUCY_BLOCK_HEAP). */
static void lucy_block_release(void *base, size_t length)
{
    if (((lucy_block_header *)base)->kind == LUCY_BLOCK_HEAP)
        free(base);
    else
        munmap(base, length);
}

/* Drop kept block k from the list (not unmapped). Lock held. */
static void lucy_cache_forget(int k)
{
    lucy_cache.bytes -= lucy_cache.length[k];
    for (int i = k; i + 1 < lucy_cache.count; ++i) {
        lucy_cache.base[i] = lucy_cache.base[i + 1];
        lucy_cache.length[i] = lucy_cache.length[i + 1];
        lucy_cache.kept_at[i] = lucy_cache.kept_at[i + 1];
    }
    lucy_cache.count -= 1;
}

/* Unmap every kept block. Called with the lock held. */
static void lucy_cache_release_locked(void)
{
    for (int i = 0; i < lucy_cache.count; ++i)
        lucy_block_release(lucy_cache.base[i], lucy_cache.length[i]);
    lucy_cache.count = 0;
    lucy_cache.bytes = 0;
}

/* The smallest kept block of `length` bytes or more, up to twice that (a
 * bigger block stays for a request it fits better), removed from the cache,
 * its length in *have_out; NULL if none. Like glibc's heap, which splits a
 * bigger free chunk: pages of the block past the request that an earlier
 * array wrote stay resident (marked MADV_FREE, so the kernel takes them
 * first under pressure). Capped at 1.5 times, batches of 30000 to 60000
 * matrices of 4 x 4 faulted again (1.0 against 0.58 ms per call). Blocks
 * that have waited more than LUCY_CACHE_SLOTS requests are released first
 * (unmapped after the lock is dropped, so other threads do not wait on
 * munmap). */
static void *lucy_cache_take(size_t length, size_t *have_out)
{
    void *found = NULL;
    void *aged_base[LUCY_CACHE_SLOTS];
    size_t aged_length[LUCY_CACHE_SLOTS];
    int best = -1, aged = 0;
    pthread_mutex_lock(&lucy_cache_lock);
    lucy_cache.requests += 1;
    for (int i = 0; i < lucy_cache.count;) {
        if (lucy_cache.requests - lucy_cache.kept_at[i] > LUCY_CACHE_SLOTS) {
            aged_base[aged] = lucy_cache.base[i];
            aged_length[aged++] = lucy_cache.length[i];
            lucy_cache_forget(i);
        } else {
            ++i;
        }
    }
    for (int i = 0; i < lucy_cache.count; ++i) {
        size_t have = lucy_cache.length[i];
        if (have >= length && have - length <= length
                && (best < 0 || have < lucy_cache.length[best]))
            best = i;
    }
    if (best >= 0) {
        found = lucy_cache.base[best];
        *have_out = lucy_cache.length[best];
        lucy_cache_forget(best);
    }
    pthread_mutex_unlock(&lucy_cache_lock);
    for (int i = 0; i < aged; ++i)
        lucy_block_release(aged_base[i], aged_length[i]);
    return found;
}

/* Keep a freed mapping for reuse, or unmap it if it does not fit the limit;
 * the oldest kept blocks make room. */
static void lucy_cache_keep(void *base, size_t length)
{
    int kept = 0;
    pthread_mutex_lock(&lucy_cache_lock);
    if (length <= lucy_cache.limit) {
        while (lucy_cache.count > 0 && (lucy_cache.count == LUCY_CACHE_SLOTS
                                        || lucy_cache.bytes + length > lucy_cache.limit)) {
            lucy_block_release(lucy_cache.base[0], lucy_cache.length[0]);
            lucy_cache_forget(0);
        }
#ifdef MADV_FREE
        if (((lucy_block_header *)base)->kind != LUCY_BLOCK_HEAP)
            madvise(base, length, MADV_FREE);   /* the kernel may take the pages back */
#endif
        lucy_cache.base[lucy_cache.count] = base;
        lucy_cache.length[lucy_cache.count] = length;
        lucy_cache.kept_at[lucy_cache.count] = lucy_cache.requests;
        lucy_cache.count += 1;
        lucy_cache.bytes += length;
        kept = 1;
    }
    pthread_mutex_unlock(&lucy_cache_lock);
    if (!kept)
        lucy_block_release(base, length);
}

/* A mapping of at least `length` bytes (page-rounded), kept or new, with
 * *fresh set when it is new (all zero) and its true length in *have. A new
 * one is a quarter longer than asked: the pages past the request cost
 * nothing until written, and a loop over batches of varying sizes then
 * finds kept blocks big enough, as glibc's heap does below 32 MiB (30000 to
 * 60000 matrices of 4 x 4: 0.55 ms per call with glibc's heap, 1.6 ms when
 * blocks fitted their first request exactly). */
static void *lucy_map(size_t length, int *fresh, size_t *have, uint32_t *kind)
{
    void *base = lucy_cache_take(length, have);
    *fresh = 0;
    if (base != NULL) {
        *kind = ((lucy_block_header *)base)->kind == LUCY_BLOCK_HEAP ? LUCY_BLOCK_HEAP
                                                                      : LUCY_BLOCK_MAPPED;
        return base;
    }
    *have = lucy_page_round(length + length / 4);
    if (*have < LUCY_HEAP_MAX_BYTES) {
        *kind = LUCY_BLOCK_HEAP;
        base = malloc(*have);
#ifdef MADV_HUGEPAGE
        if (base != NULL) {     /* its whole pages, as NumPy advises its own */
            const size_t page = (size_t)sysconf(_SC_PAGESIZE);
            const uintptr_t start = ((uintptr_t)base + page - 1) / page * page;
            const uintptr_t end = ((uintptr_t)base + length) / page * page;
            if (end > start)
                madvise((void *)start, end - start, MADV_HUGEPAGE);
        }
#endif
        return base;
    }
    *kind = LUCY_BLOCK_MAPPED;
    *fresh = 1;
    base = mmap(NULL, *have, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    /* as NumPy does for its own; not the margin, which the kernel's
       huge-page daemon would otherwise fill in unasked */
    madvise(base, length, MADV_HUGEPAGE);
#endif
    return base;
}
#endif  /* LUCY_CACHE_MMAP */

static void *lucy_cache_alloc(size_t size, int zero)
{
    lucy_block_header *h;
    if (size > SIZE_MAX / 2)     /* room for the header and the mapping's margin */
        return NULL;
#if LUCY_CACHE_MMAP
    if (size >= LUCY_CACHE_MIN_BYTES) {
        int fresh;
        size_t length;
        uint32_t kind;
        h = (lucy_block_header *)lucy_map(lucy_page_round(size + LUCY_CACHE_HEADER),
                                          &fresh, &length, &kind);
        if (h == NULL)
            return NULL;
        h->kind = kind;
        h->length = length;     /* the whole block, for munmap or the cache */
        h->size = size;
        if (zero && !fresh)
            memset((char *)h + LUCY_CACHE_HEADER, 0, size);
        return (char *)h + LUCY_CACHE_HEADER;
    }
#endif
    h = (lucy_block_header *)(zero ? calloc(1, size + LUCY_CACHE_HEADER)
                                   : malloc(size + LUCY_CACHE_HEADER));
    if (h == NULL)
        return NULL;
    h->kind = LUCY_BLOCK_MALLOC;
    h->length = size + LUCY_CACHE_HEADER;
    h->size = size;
    return (char *)h + LUCY_CACHE_HEADER;
}

static void lucy_cache_free(void *ctx, void *ptr, size_t size)
{
    lucy_block_header *h;
    (void)ctx; (void)size;      /* the header knows; realloc gets no size */
    if (ptr == NULL)
        return;
    h = (lucy_block_header *)((char *)ptr - LUCY_CACHE_HEADER);
#if LUCY_CACHE_MMAP
    if (h->kind == LUCY_BLOCK_MAPPED || h->kind == LUCY_BLOCK_HEAP) {
        lucy_cache_keep(h, h->length);
        return;
    }
#endif
    free(h);
}

static void *lucy_cache_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return lucy_cache_alloc(size, 0);
}

static void *lucy_cache_calloc(void *ctx, size_t nelem, size_t elsize)
{
    (void)ctx;
    if (elsize != 0 && nelem > SIZE_MAX / elsize)
        return NULL;
    return lucy_cache_alloc(nelem * elsize, 1);
}

static void *lucy_cache_realloc(void *ctx, void *ptr, size_t new_size)
{
    lucy_block_header *h;
    void *out;
    size_t old_size;
    if (ptr == NULL)
        return lucy_cache_malloc(ctx, new_size);
    h = (lucy_block_header *)((char *)ptr - LUCY_CACHE_HEADER);
    old_size = h->size;
    out = lucy_cache_malloc(ctx, new_size);
    if (out == NULL)
        return NULL;        /* as realloc: the old block stays valid */
    memcpy(out, ptr, old_size < new_size ? old_size : new_size);
    lucy_cache_free(ctx, ptr, old_size);
    return out;
}

static PyDataMem_Handler lucy_output_handler = {
    "lucy_output_cache",
    1,
    {NULL, lucy_cache_malloc, lucy_cache_calloc, lucy_cache_realloc, lucy_cache_free},
};

#if LUCY_CACHE_MMAP
/* fork() while another thread holds the lock would leave the child's copy
 * locked for ever: hold it across the fork, release it on both sides. */
static void lucy_cache_fork_prepare(void) { pthread_mutex_lock(&lucy_cache_lock); }
static void lucy_cache_fork_done(void) { pthread_mutex_unlock(&lucy_cache_lock); }
static int lucy_cache_fork_handlers = 0;
#endif

/* Set the byte limit (0: keep nothing) and release what no longer fits. */
static void lucy_cache_configure(size_t limit)
{
#if LUCY_CACHE_MMAP
    if (!lucy_cache_fork_handlers)      /* first call: at import, under the GIL */
        lucy_cache_fork_handlers = pthread_atfork(lucy_cache_fork_prepare,
                                                  lucy_cache_fork_done,
                                                  lucy_cache_fork_done) == 0;
    pthread_mutex_lock(&lucy_cache_lock);
    lucy_cache.limit = limit;
    if (lucy_cache.bytes > limit)
        lucy_cache_release_locked();
    pthread_mutex_unlock(&lucy_cache_lock);
#else
    (void)limit;
#endif
}

/* Release every kept block now. */
static void lucy_cache_release(void)
{
#if LUCY_CACHE_MMAP
    pthread_mutex_lock(&lucy_cache_lock);
    lucy_cache_release_locked();
    pthread_mutex_unlock(&lucy_cache_lock);
#endif
}

/* How many blocks and bytes are kept now. */
static void lucy_cache_state(int *count, size_t *bytes, size_t *limit)
{
#if LUCY_CACHE_MMAP
    pthread_mutex_lock(&lucy_cache_lock);
#endif
    *count = lucy_cache.count;
    *bytes = lucy_cache.bytes;
    *limit = lucy_cache.limit;
#if LUCY_CACHE_MMAP
    pthread_mutex_unlock(&lucy_cache_lock);
#endif
}

#endif  /* LUCY_OUTPUT_CACHE_H */

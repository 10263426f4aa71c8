/*
 * libDeepExtensionsScalarQuarantine.so: stands in for TorchSharp's LibTorchSharp library (ScalarQuarantine.cs).
 *
 * TorchSharp 0.107 hands libtorch only the native handle of a Scalar argument. The managed Scalar (a number converted
 * implicitly, or a hidden default such as add_'s alpha = 1) is unreachable during the call, so a garbage collection
 * started by another thread can run its finalizer, which calls THSTorch_dispose_scalar and frees the at::Scalar while
 * libtorch is reading it: "Unknown scalar type", Scalar.h toFloat/toDouble checks, or a wrong value (NaN losses).
 *
 * This library lists libLibTorchSharp.so as a dependency (DT_NEEDED), so every TorchSharp entry point looked up
 * through it resolves to the real library, except THSTorch_dispose_scalar, defined here: it keeps each scalar in a
 * quarantine and hands it to the real THSTorch_dispose_scalar only when it is at least QUARANTINE_NANOSECONDS old
 * (or when the ring is full, the oldest first). A libtorch call reads its scalars when it starts, so a scalar still in
 * use is never freed; the memory held is bounded (RING_CAPACITY at::Scalar objects of 32 bytes, 4 MiB).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))
#define RING_CAPACITY (1u << 17)
#define QUARANTINE_NANOSECONDS 1000000000LL

typedef void (*dispose_scalar_fn)(void *);

static void *ring_scalars[RING_CAPACITY];
static int64_t ring_times[RING_CAPACITY];
static uint32_t ring_oldest;
static uint32_t ring_count;
static uint64_t total_deferred;
static uint64_t total_freed;
static pthread_mutex_t ring_gate = PTHREAD_MUTEX_INITIALIZER;
static dispose_scalar_fn real_dispose_scalar;

static int64_t now_nanoseconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The real entry point: looked up in libLibTorchSharp.so itself (already loaded as this library's dependency), so the
   search cannot find this library's definition again. */
static dispose_scalar_fn resolve_real(void)
{
    void *library = dlopen("libLibTorchSharp.so", RTLD_NOW | RTLD_NOLOAD);
    return library == NULL ? NULL : (dispose_scalar_fn)dlsym(library, "THSTorch_dispose_scalar");
}

EXPORT void THSTorch_dispose_scalar(void *scalar)
{
    if (scalar == NULL)
        return;
    int64_t now = now_nanoseconds();
    pthread_mutex_lock(&ring_gate);
    if (real_dispose_scalar == NULL)
        real_dispose_scalar = resolve_real();
    if (real_dispose_scalar == NULL) {
        /* Cannot happen while the dependency is loaded; leaking is the safe answer. */
        pthread_mutex_unlock(&ring_gate);
        return;
    }
    while (ring_count > 0 &&
           (ring_count == RING_CAPACITY || now - ring_times[ring_oldest] >= QUARANTINE_NANOSECONDS)) {
        real_dispose_scalar(ring_scalars[ring_oldest]);
        ring_oldest = (ring_oldest + 1) & (RING_CAPACITY - 1);
        ring_count--;
        total_freed++;
    }
    uint32_t slot = (ring_oldest + ring_count) & (RING_CAPACITY - 1);
    ring_scalars[slot] = scalar;
    ring_times[slot] = now;
    ring_count++;
    total_deferred++;
    pthread_mutex_unlock(&ring_gate);
}

/* Counters for diagnostics and tests: scalars received, scalars freed, scalars held now. */
EXPORT void DeepExtensions_scalar_quarantine_counts(uint64_t *deferred, uint64_t *freed, uint64_t *held)
{
    pthread_mutex_lock(&ring_gate);
    *deferred = total_deferred;
    *freed = total_freed;
    *held = ring_count;
    pthread_mutex_unlock(&ring_gate);
}

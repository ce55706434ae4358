/*
 * wake_bench: the native side of bench/wake_latency.ts's SharedRing rows. It
 * behaves on a SharedRing v1 (u64 slots, a file under /dev/shm made by the
 * Deno side) as ringmpsc 2.3.0 does on the wake side:
 *
 *   wake_bench wake  PATH SAMPLES DELAY_US   a ringmpsc-style producer
 *   wake_bench sleep PATH SAMPLES            a ringmpsc-style sleeper
 *
 * wake: for each sample, waits until the consumer counts itself a sleeper
 * (consumer_waiters > 0) and the ring is empty, spins DELAY_US so it is surely
 * asleep in the kernel, writes CLOCK_MONOTONIC ns as the item, then commits
 * exactly as ringmpsc does: store-release tail, store heartbeat, and if
 * consumer_waiters > 0, FUTEX_WAKE (shared) one waiter on consumer_waiters.
 *
 * sleep: what an application of ringmpsc (which has no wait API) does to
 * sleep: increment consumer_waiters, re-check the ring, FUTEX_WAIT on
 * consumer_waiters while it holds the value it incremented to, decrement;
 * then read the item, take CLOCK_MONOTONIC - item as the sample, advance
 * (store-release head). Prints the samples (ns) as one JSON array.
 *
 * Header words used (little-endian): 0x080 tail u64, 0x090 heartbeat_ns u64,
 * 0x100 head u64, 0x180 consumer_waiters u32; data from 0x200. The capacity
 * mask is read from 0x018. Never writes 0x18C-0x1FF.
 * Exit status: 0 done, 2 usage or system error, 5 no progress for 10 s.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TAIL 0x080
#define HEARTBEAT 0x090
#define HEAD 0x100
#define MASK 0x018
#define CONSUMER_WAITERS 0x180
#define DATA 0x200
#define GIVE_UP_NS 10000000000LL

static uint8_t *base;

static _Atomic uint64_t *word64(size_t offset) { return (_Atomic uint64_t *)(base + offset); }
static _Atomic uint32_t *word32(size_t offset) { return (_Atomic uint32_t *)(base + offset); }

static int64_t clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void give_up_after(int64_t since) {
  if (clock_ns(CLOCK_MONOTONIC) - since > GIVE_UP_NS) {
    fprintf(stderr, "wake_bench: no progress for 10 s\n");
    exit(5);
  }
}

static void wake(uint64_t samples, int64_t delay_ns) {
  uint64_t mask = atomic_load_explicit(word64(MASK), memory_order_relaxed);
  uint64_t tail = atomic_load_explicit(word64(TAIL), memory_order_relaxed);
  for (uint64_t i = 0; i < samples; i++) {
    int64_t since = clock_ns(CLOCK_MONOTONIC);
    while (atomic_load_explicit(word32(CONSUMER_WAITERS), memory_order_acquire) == 0 ||
           atomic_load_explicit(word64(HEAD), memory_order_acquire) != tail) {
      give_up_after(since);
    }
    int64_t until = clock_ns(CLOCK_MONOTONIC) + delay_ns;
    while (clock_ns(CLOCK_MONOTONIC) < until) {
    }
    ((uint64_t *)(base + DATA))[tail & mask] = (uint64_t)clock_ns(CLOCK_MONOTONIC);
    atomic_store_explicit(word64(TAIL), ++tail, memory_order_release);
    atomic_store_explicit(word64(HEARTBEAT), (uint64_t)clock_ns(CLOCK_REALTIME),
                          memory_order_relaxed);
    if (atomic_load_explicit(word32(CONSUMER_WAITERS), memory_order_acquire) > 0) {
      syscall(SYS_futex, word32(CONSUMER_WAITERS), FUTEX_WAKE, 1, NULL, NULL, 0);
    }
  }
}

static void sleep_loop(uint64_t samples) {
  uint64_t mask = atomic_load_explicit(word64(MASK), memory_order_relaxed);
  uint64_t head = atomic_load_explicit(word64(HEAD), memory_order_relaxed);
  printf("[");
  for (uint64_t i = 0; i < samples; i++) {
    int64_t since = clock_ns(CLOCK_MONOTONIC);
    while (atomic_load_explicit(word64(TAIL), memory_order_acquire) == head) {
      uint32_t mine = atomic_fetch_add(word32(CONSUMER_WAITERS), 1) + 1;
      if (atomic_load(word64(TAIL)) == head) {
        struct timespec slice = {0, 10000000}; /* a ringmpsc sleeper's guard: 10 ms */
        syscall(SYS_futex, word32(CONSUMER_WAITERS), FUTEX_WAIT, mine, &slice, NULL, 0);
      }
      atomic_fetch_sub(word32(CONSUMER_WAITERS), 1);
      give_up_after(since);
    }
    int64_t woke = clock_ns(CLOCK_MONOTONIC);
    uint64_t stamp = ((uint64_t *)(base + DATA))[head & mask];
    atomic_store_explicit(word64(HEAD), ++head, memory_order_release);
    printf("%s%lld", i == 0 ? "" : ",", (long long)(woke - (int64_t)stamp));
  }
  printf("]\n");
}

int main(int argc, char **argv) {
  if (argc < 4 || (strcmp(argv[1], "wake") != 0 && strcmp(argv[1], "sleep") != 0) ||
      (strcmp(argv[1], "wake") == 0 && argc < 5)) {
    fprintf(stderr, "usage: wake_bench wake PATH SAMPLES DELAY_US | sleep PATH SAMPLES\n");
    return 2;
  }
  int fd = open(argv[2], O_RDWR);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < DATA + 8) {
    perror("wake_bench: open");
    return 2;
  }
  base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    perror("wake_bench: mmap");
    return 2;
  }
  uint64_t samples = strtoull(argv[3], NULL, 10);
  if (strcmp(argv[1], "wake") == 0) wake(samples, (int64_t)strtoll(argv[4], NULL, 10) * 1000);
  else sleep_loop(samples);
  return 0;
}

/*
 * ring_bench: the native C baseline for ringmpsc-for-Deno's benchmarks.
 *
 * The same rings as the TypeScript library, built with the project's Zig
 * (`zig cc`), so every JS throughput figure can be reported as a ratio of the
 * physical limit of the machine it ran on. Every mode reads and checks every
 * item: a run that loses, duplicates or reorders an item fails (exit 1).
 *
 *   ring_bench MODE [--items N] [--batch B] [--ring-bits R] [--producers P]
 *              [--consumers C] [--rounds N] [--elem u32|u64|f64] [--pin]
 *              [--seq-cst]
 *
 * MODE is spsc, mpsc, mpmc or pingpong. One JSON line goes to stdout; a
 * failed check also goes to stderr (exit 1); bad arguments print the usage to
 * stderr (exit 2).
 *
 * Publishing order. By default a side publishes its position (the producer's
 * tail on commit, the consumer's head on advance) with a release store, which
 * on x86 is a plain `mov`. With --seq-cst those stores are sequentially
 * consistent instead (x86: `xchg`, which drains the store buffer): the only
 * kind of atomic store JavaScript (`Atomics.store`) and WebAssembly
 * (`i32.atomic.store`) have, so that run is the limit of a ring that publishes
 * with the stores JS has. Loads, the mpmc claim CAS and the run-wide flags are
 * the same in both; the JSON line says which order ran ("order").
 *
 * Byte layout of one ring's control block (ring_ctl, 256 bytes, 128-aligned):
 *
 *   0x000  tail  u64  written only by the producer: release store on commit
 *                     (seq_cst with --seq-cst)
 *   0x008  ...   padding, so the consumer's line never shares the producer's
 *   0x080  head  u64  written only by the consumer: release store on advance
 *                     (seq_cst with --seq-cst)
 *                     (mpmc: claimed by any consumer with compare-and-swap)
 *   0x088  ...   padding to 256 bytes
 *
 * The ring's slots are a separate 128-aligned array of 2^ringBits elements;
 * a free-running position p lives in slot p & (capacity - 1).
 *
 * Roles and invariants:
 *   - tail and head are free-running u64 counters and 0 <= tail - head <=
 *     capacity at every instant; a side that observes otherwise stops the run.
 *   - Slots [head, tail) are readable by the consumer; slots [tail, head +
 *     capacity) are writable by the producer.
 *   - The producer keeps a private copy of tail and a private cachedHead, and
 *     loads head (acquire) only when cachedHead says the ring is full. The
 *     consumer keeps a private head and cachedTail, and loads tail (acquire)
 *     only when cachedTail says the ring is empty.
 *   - The producer of ring p writes the sequence numbers 0, 1, 2, ... (the
 *     value in position i is i, truncated to the element type), so every
 *     consumer knows which value each position must hold.
 *
 * The per-element code is written once, below the #else near the end of this
 * file, and included three times (u32, u64, f64) by `#include "ring_bench.c"`.
 */
#ifndef RB_TEMPLATE_PASS

#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RB_MAX_THREADS 64
/** Largest item count: f64 elements represent sequence numbers exactly up to 2^53. */
#define RB_MAX_ITEMS (UINT64_C(1) << 53)
/** Largest number of items an mpmc consumer claims at once. */
#define RB_MPMC_CLAIM 256
/** Ping-pong rounds run and thrown away before the measured rounds. */
#define RB_PINGPONG_WARMUP 10000
/** Failed polls a waiting thread spends on the pause instruction before it yields its core. */
#define RB_SPIN_LIMIT 128

typedef enum { MODE_SPSC, MODE_MPSC, MODE_MPMC, MODE_PINGPONG } bench_mode;
typedef enum { ELEM_U32, ELEM_U64, ELEM_F64 } elem_kind;

static const char *const MODE_NAMES[] = {"spsc", "mpsc", "mpmc", "pingpong"};
static const char *const ELEM_NAMES[] = {"u32", "u64", "f64"};
static const size_t ELEM_SIZES[] = {4, 8, 8};
/** The "order" of the JSON line: how tail and head were published. */
#define ORDER_NAME(seqCst) ((seqCst) ? "seq_cst" : "release")

/** One ring's shared control block; see the byte layout at the top of the file. */
typedef struct {
  alignas(128) _Atomic uint64_t tail;
  alignas(128) _Atomic uint64_t head;
} ring_ctl;

_Static_assert(sizeof(ring_ctl) == 256, "ring_ctl must be 256 bytes");

/**
 * Stores a position another thread waits on (tail on commit, head on advance):
 * seq_cst when `seqCst` (--seq-cst), else release. Callers pass a local copied
 * from the read-only run options, so the branch is one well-predicted test; the
 * order must stay a constant in each arm, as a non-constant order compiles to
 * seq_cst.
 */
static inline void publish_store(_Atomic uint64_t *pos, uint64_t value, bool seqCst) {
  if (seqCst) {
    atomic_store_explicit(pos, value, memory_order_seq_cst);
  } else {
    atomic_store_explicit(pos, value, memory_order_release);
  }
}

/** A ring and the number of items its producer sends. */
typedef struct {
  ring_ctl *ctl;
  void *data;
  uint64_t count;
} ring_ref;

/** What every thread of a throughput run shares (read-only once threads start). */
typedef struct {
  bench_mode mode;
  int producers;
  int consumers;
  uint64_t items;
  uint64_t batch;
  uint64_t capacity;
  uint64_t mask;
  bool pin;
  bool seqCst; /* publish tail and head with seq_cst stores (--seq-cst), else release */
  ring_ref rings[RB_MAX_THREADS];
} bench;

/** One thread: its role's index and, for a consumer, what it received from each ring. */
typedef struct {
  bench *b;
  int id;         /* producer index, or consumer index */
  int threadSlot; /* 0 .. producers + consumers - 1, used for pinning */
  pthread_t thread;
  uint64_t count[RB_MAX_THREADS]; /* consumer: items received per producer */
  uint64_t sum[RB_MAX_THREADS];   /* consumer: sum of received values per producer */
} worker;

/* ---- run-wide state ------------------------------------------------------------------------ */

/** Threads that reached the start line. */
static _Atomic int g_ready;
/** Set by the main thread to start every thread at once. */
static _Atomic int g_go;
/** Producers that committed their last item (consumers stop waiting once all did). */
static _Atomic int g_producersDone;
/** Set by the first thread that finds an error; every waiting loop then gives up. */
static _Atomic int g_abort;
static char g_error[512];
static bool g_pin;

/** Records the first failure and tells every thread to stop. */
static void fail(const char *fmt, ...) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&g_abort, &expected, 1)) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
}

static bool aborted(void) {
  return atomic_load_explicit(&g_abort, memory_order_relaxed) != 0;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/**
 * Waiting on another thread: a few polls with the pause instruction, then
 * sched_yield, so oversubscribed runs (more threads than cores) still finish.
 */
typedef struct {
  unsigned step;
} backoff;

/** Returns false when the run was aborted and the caller must stop. */
static inline bool snooze(backoff *bo) {
  if (bo->step < RB_SPIN_LIMIT) {
    cpu_relax();
  } else {
    if (aborted()) return false;
    sched_yield();
  }
  bo->step++;
  return true;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/** Pins the calling thread to the slot-th CPU it may run on (only with --pin). */
static void pin_self(int slot) {
  if (!g_pin) return;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  int n = CPU_COUNT(&allowed);
  if (n <= 0) return;
  int want = slot % n;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (want-- == 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      return;
    }
  }
}

/** Every thread pins itself, reports ready, then waits for the common start. */
static void start_line(int slot) {
  pin_self(slot);
  atomic_fetch_add(&g_ready, 1);
  backoff bo = {0};
  while (!atomic_load_explicit(&g_go, memory_order_acquire)) {
    if (!snooze(&bo)) return;
  }
}

/** Sum of i for i in [0, n), modulo 2^64: n(n - 1)/2, halving the even factor first. */
static uint64_t seq_sum_u64(uint64_t n) {
  if (n == 0) return 0;
  return (n & 1) == 0 ? (n / 2) * (n - 1) : n * ((n - 1) / 2);
}

/** Sum of (i truncated to 32 bits) for i in [0, n), modulo 2^64. */
static uint64_t seq_sum_u32(uint64_t n) {
  const uint64_t cycle = seq_sum_u64(UINT64_C(1) << 32); /* 0 + 1 + ... + (2^32 - 1) */
  return (n >> 32) * cycle + seq_sum_u64(n & UINT64_C(0xffffffff));
}

#define RB_CAT2(a, b) a##_##b
#define RB_CAT(a, b) RB_CAT2(a, b)
#define RB_FN(name) RB_CAT(name, RB_SFX)

/* ---- the per-element code, three times --------------------------------------------------- */
#define RB_TEMPLATE_PASS 1

#define RB_T uint32_t
#define RB_SFX u32
#define RB_ENCODE(seq) ((uint32_t)(seq))
#define RB_DECODE(v) ((uint64_t)(v))
#define RB_SEQ_SUM seq_sum_u32
#include "ring_bench.c"
#undef RB_T
#undef RB_SFX
#undef RB_ENCODE
#undef RB_DECODE
#undef RB_SEQ_SUM

#define RB_T uint64_t
#define RB_SFX u64
#define RB_ENCODE(seq) ((uint64_t)(seq))
#define RB_DECODE(v) ((uint64_t)(v))
#define RB_SEQ_SUM seq_sum_u64
#include "ring_bench.c"
#undef RB_T
#undef RB_SFX
#undef RB_ENCODE
#undef RB_DECODE
#undef RB_SEQ_SUM

#define RB_T double
#define RB_SFX f64
#define RB_ENCODE(seq) ((double)(seq))
#define RB_DECODE(v) ((uint64_t)(v))
#define RB_SEQ_SUM seq_sum_u64
#include "ring_bench.c"
#undef RB_T
#undef RB_SFX
#undef RB_ENCODE
#undef RB_DECODE
#undef RB_SEQ_SUM

typedef struct {
  void *(*producer)(void *);
  void *(*drain)(void *);
  void *(*mpmcConsumer)(void *);
  uint64_t (*seqSum)(uint64_t);
} elem_ops;

static const elem_ops ELEM_OPS[] = {
    {producer_main_u32, drain_main_u32, mpmc_consumer_main_u32, seq_sum_u32},
    {producer_main_u64, drain_main_u64, mpmc_consumer_main_u64, seq_sum_u64},
    {producer_main_f64, drain_main_f64, mpmc_consumer_main_f64, seq_sum_u64},
};

/* ---- ping-pong ---------------------------------------------------------------------------- */

/** One side's private view of one ring: its own position and its cache of the other side's. */
typedef struct {
  ring_ctl *ctl;
  uint32_t *data;
  uint64_t mask;
  uint64_t capacity;
  uint64_t pos;    /* producer: tail; consumer: head */
  uint64_t cached; /* producer: cachedHead; consumer: cachedTail */
  bool seqCst;     /* publish pos with a seq_cst store (--seq-cst), else release */
} pp_end;

/** Spin-sends one u32 (reserve 1, write, commit 1). Returns false if the run was aborted. */
static inline bool pp_send(pp_end *e, uint32_t value) {
  unsigned spins = 0;
  while (e->pos - e->cached == e->capacity) {
    e->cached = atomic_load_explicit(&e->ctl->head, memory_order_acquire);
    if (e->pos - e->cached != e->capacity) break;
    cpu_relax();
    if ((++spins & 0xffff) == 0) {
      if (aborted()) return false;
      sched_yield();
    }
  }
  e->data[e->pos & e->mask] = value;
  e->pos++;
  /* publishes the one slot just written to the other thread */
  publish_store(&e->ctl->tail, e->pos, e->seqCst);
  return true;
}

/** Spin-receives one u32 into *out. Returns false if the run was aborted. */
static inline bool pp_recv(pp_end *e, uint32_t *out) {
  unsigned spins = 0;
  while (e->cached == e->pos) {
    e->cached = atomic_load_explicit(&e->ctl->tail, memory_order_acquire);
    if (e->cached != e->pos) break;
    cpu_relax();
    if ((++spins & 0xffff) == 0) {
      if (aborted()) return false;
      sched_yield();
    }
  }
  *out = e->data[e->pos & e->mask];
  e->pos++;
  /* publishes that the slot just read is free again */
  publish_store(&e->ctl->head, e->pos, e->seqCst);
  return true;
}

typedef struct {
  pp_end in;  /* ping -> echo, consumer side */
  pp_end out; /* echo -> ping, producer side */
  uint64_t rounds;
} echo_arg;

static void *echo_main(void *arg) {
  const echo_arg *a = arg;
  /* Private copies on this thread's stack: the originals share a line with the ping side's. */
  pp_end in = a->in, out = a->out;
  start_line(1);
  for (uint64_t i = 0; i < a->rounds; i++) {
    uint32_t v;
    if (!pp_recv(&in, &v)) return NULL;
    if (v != (uint32_t)i) {
      fail("pingpong: echo thread received %" PRIu32 " in round %" PRIu64 ", expected %" PRIu32, v,
           i, (uint32_t)i);
      return NULL;
    }
    if (!pp_send(&out, v)) return NULL;
  }
  return NULL;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/**
 * Nearest-rank percentile num/den of a sorted array: the smallest sample with at least that share
 * of the samples at or below it.
 */
static uint64_t percentile(const uint64_t *sorted, uint64_t n, uint64_t num, uint64_t den) {
  uint64_t rank = (n * num + den - 1) / den; /* ceil(n * q) */
  if (rank == 0) rank = 1;
  return sorted[rank - 1];
}

/* ---- command line ------------------------------------------------------------------------- */

typedef struct {
  bench_mode mode;
  elem_kind elem;
  uint64_t items, batch, ringBits, producers, consumers, rounds;
  bool hasItems, hasBatch, hasRingBits, hasProducers, hasConsumers, hasRounds, hasElem;
  bool pin;
  bool seqCst;
} options;

static void usage(FILE *to) {
  fprintf(to,
          "usage: ring_bench MODE [options]\n"
          "  MODE             spsc | mpsc | mpmc | pingpong\n"
          "  --items N        items sent in all, split evenly over the producers (throughput\n"
          "                   modes; default 100M spsc, 60M mpsc, 50M mpmc; with --batch > 1:\n"
          "                   800M spsc, 800M mpsc, 500M mpmc)\n"
          "  --batch B        items a producer publishes at once, 1..capacity (default 1)\n"
          "  --ring-bits R    ring capacity 2^R, 1..28 (default 16)\n"
          "  --producers P    producer threads, 1..64 (mpsc default 2, mpmc default 2)\n"
          "  --consumers C    consumer threads, 1..64 (mpmc only, default 2)\n"
          "  --rounds N       measured round trips, default 1M (pingpong only; after %d\n"
          "                   warm-up rounds)\n"
          "  --elem E         element type u32 | u64 | f64 (throughput modes, default u32)\n"
          "  --pin            pin each thread to its own CPU (default: no pinning)\n"
          "  --seq-cst        publish tail and head with seq_cst stores, the only atomic\n"
          "                   stores JS and Wasm have (default: release stores)\n"
          "Prints one JSON line; exits 1 if any item was lost, duplicated or reordered.\n",
          RB_PINGPONG_WARMUP);
}

static _Noreturn void bad_args(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("ring_bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputs("\n", stderr);
  va_end(ap);
  usage(stderr);
  exit(2);
}

/** Parses a decimal integer in [lo, hi]; anything else is a usage error. */
static uint64_t parse_uint(const char *name, const char *text, uint64_t lo, uint64_t hi) {
  if (text == NULL) bad_args("Cannot parse %s as it has no value", name);
  uint64_t v = 0;
  bool overflow = false;
  const char *p = text;
  if (*p == '\0') bad_args("Cannot parse %s as it must be a decimal integer: received \"\"", name);
  for (; *p; p++) {
    if (*p < '0' || *p > '9') {
      bad_args("Cannot parse %s as it must be a decimal integer: received \"%s\"", name, text);
    }
    if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) overflow = true;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (overflow || v < lo || v > hi) {
    bad_args("Cannot run as %s must be between %" PRIu64 " and %" PRIu64 ": received %s", name, lo,
             hi, text);
  }
  return v;
}

static options parse_args(int argc, char **argv) {
  options o = {0};
  if (argc < 2) bad_args("Cannot run as MODE is missing");
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    exit(0);
  }
  bool found = false;
  for (int m = 0; m < 4; m++) {
    if (strcmp(argv[1], MODE_NAMES[m]) == 0) {
      o.mode = (bench_mode)m;
      found = true;
    }
  }
  if (!found) {
    bad_args("Cannot run as MODE must be spsc, mpsc, mpmc or pingpong: received \"%s\"", argv[1]);
  }
  for (int i = 2; i < argc; i++) {
    char name[32];
    const char *arg = argv[i];
    const char *value = NULL;
    const char *eq = strchr(arg, '=');
    if (eq != NULL) {
      size_t len = (size_t)(eq - arg);
      if (len >= sizeof name) bad_args("Cannot run as option \"%s\" is unknown", arg);
      memcpy(name, arg, len);
      name[len] = '\0';
      value = eq + 1;
    } else {
      if (strlen(arg) >= sizeof name) bad_args("Cannot run as option \"%s\" is unknown", arg);
      strcpy(name, arg);
    }
    if (strcmp(name, "--pin") == 0) {
      if (value != NULL) bad_args("Cannot run as --pin takes no value: received \"%s\"", value);
      o.pin = true;
      continue;
    }
    if (strcmp(name, "--seq-cst") == 0) {
      if (value != NULL) bad_args("Cannot run as --seq-cst takes no value: received \"%s\"", value);
      o.seqCst = true;
      continue;
    }
    if (strcmp(name, "--help") == 0) {
      usage(stdout);
      exit(0);
    }
    if (value == NULL) {
      if (i + 1 >= argc) bad_args("Cannot run as option %s has no value", name);
      value = argv[++i];
    }
    if (strcmp(name, "--items") == 0) {
      o.items = parse_uint(name, value, 1, RB_MAX_ITEMS);
      o.hasItems = true;
    } else if (strcmp(name, "--batch") == 0) {
      o.batch = parse_uint(name, value, 1, UINT64_C(1) << 28);
      o.hasBatch = true;
    } else if (strcmp(name, "--ring-bits") == 0) {
      o.ringBits = parse_uint(name, value, 1, 28);
      o.hasRingBits = true;
    } else if (strcmp(name, "--producers") == 0) {
      o.producers = parse_uint(name, value, 1, RB_MAX_THREADS);
      o.hasProducers = true;
    } else if (strcmp(name, "--consumers") == 0) {
      o.consumers = parse_uint(name, value, 1, RB_MAX_THREADS);
      o.hasConsumers = true;
    } else if (strcmp(name, "--rounds") == 0) {
      o.rounds = parse_uint(name, value, 1, UINT64_C(1) << 27);
      o.hasRounds = true;
    } else if (strcmp(name, "--elem") == 0) {
      bool known = false;
      for (int e = 0; e < 3; e++) {
        if (strcmp(value, ELEM_NAMES[e]) == 0) {
          o.elem = (elem_kind)e;
          known = true;
        }
      }
      if (!known) bad_args("Cannot run as --elem must be u32, u64 or f64: received \"%s\"", value);
      o.hasElem = true;
    } else {
      bad_args("Cannot run as option \"%s\" is unknown", name);
    }
  }

  const char *mode = MODE_NAMES[o.mode];
  if (!o.hasRingBits) o.ringBits = 16;
  if (o.mode == MODE_PINGPONG) {
    if (o.hasItems || o.hasBatch || o.hasProducers || o.hasConsumers) {
      bad_args("Cannot run pingpong with --items, --batch, --producers or --consumers");
    }
    if (o.hasElem && o.elem != ELEM_U32) {
      bad_args("Cannot run pingpong as its element type is u32: received --elem %s",
               ELEM_NAMES[o.elem]);
    }
    if (!o.hasRounds) o.rounds = 1000000;
    o.producers = 1;
    o.consumers = 1;
    o.batch = 1;
    return o;
  }
  if (o.hasRounds) bad_args("Cannot run %s with --rounds (pingpong only)", mode);
  if (!o.hasBatch) o.batch = 1;
  if (o.batch > (UINT64_C(1) << o.ringBits)) {
    bad_args("Cannot run %s as --batch must be between 1 and the ring capacity %" PRIu64
             ": received %" PRIu64,
             mode, UINT64_C(1) << o.ringBits, o.batch);
  }
  switch (o.mode) {
  case MODE_SPSC:
    if ((o.hasProducers && o.producers != 1) || (o.hasConsumers && o.consumers != 1)) {
      bad_args("Cannot run spsc as it has exactly 1 producer and 1 consumer: received %" PRIu64
               " and %" PRIu64,
               o.hasProducers ? o.producers : 1, o.hasConsumers ? o.consumers : 1);
    }
    o.producers = 1;
    o.consumers = 1;
    if (!o.hasItems) o.items = o.batch > 1 ? 800000000 : 100000000;
    break;
  case MODE_MPSC:
    if (o.hasConsumers && o.consumers != 1) {
      bad_args("Cannot run mpsc as it has exactly 1 consumer: received %" PRIu64, o.consumers);
    }
    o.consumers = 1;
    if (!o.hasProducers) o.producers = 2;
    if (!o.hasItems) o.items = o.batch > 1 ? 800000000 : 60000000;
    break;
  case MODE_MPMC:
    if (!o.hasProducers) o.producers = 2;
    if (!o.hasConsumers) o.consumers = 2;
    if (o.producers + o.consumers > RB_MAX_THREADS) {
      bad_args("Cannot run mpmc as producers + consumers must be at most %d: received %" PRIu64,
               RB_MAX_THREADS, o.producers + o.consumers);
    }
    if (!o.hasItems) o.items = o.batch > 1 ? 500000000 : 50000000;
    break;
  default:
    break;
  }
  return o;
}

/* ---- output ------------------------------------------------------------------------------- */

/** Writes s as a JSON string body (our messages hold no control characters, but be safe). */
static void json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
    } else if (c < 0x20) {
      printf("\\u%04x", c);
    } else {
      putchar(c);
    }
  }
  putchar('"');
}

static int finish(bool ok) {
  if (!ok) {
    printf(",\"ok\":false,\"error\":");
    json_string(g_error);
    printf("}\n");
    fflush(stdout);
    fprintf(stderr, "ring_bench: %s\n", g_error);
    return 1;
  }
  printf(",\"ok\":true}\n");
  return 0;
}

static void *alloc_or_die(size_t bytes) {
  void *p = NULL;
  if (posix_memalign(&p, 128, bytes) != 0) {
    fprintf(stderr, "ring_bench: Cannot allocate %zu bytes\n", bytes);
    exit(1);
  }
  memset(p, 0, bytes); /* touch every page before the clock starts */
  return p;
}

static void spawn(pthread_t *t, void *(*fn)(void *), void *arg) {
  int rc = pthread_create(t, NULL, fn, arg);
  if (rc != 0) {
    fprintf(stderr, "ring_bench: Cannot create thread: %s\n", strerror(rc));
    exit(1);
  }
}

/** Waits until `threads` threads stand at the start line, then starts them all. */
static uint64_t release_start(int threads) {
  while (atomic_load(&g_ready) < threads) sched_yield();
  uint64_t t0 = now_ns();
  atomic_store_explicit(&g_go, 1, memory_order_release);
  return t0;
}

static int run_pingpong(const options *o) {
  uint64_t capacity = UINT64_C(1) << o->ringBits;
  ring_ctl *ctlA = alloc_or_die(sizeof(ring_ctl)), *ctlB = alloc_or_die(sizeof(ring_ctl));
  uint32_t *dataA = alloc_or_die(capacity * 4), *dataB = alloc_or_die(capacity * 4);
  /* Per-round timed rounds, then as many again timed only as one span (the aggregate). */
  uint64_t timed = RB_PINGPONG_WARMUP + o->rounds;
  uint64_t total = timed + o->rounds;
  uint64_t *lat = alloc_or_die(o->rounds * sizeof(uint64_t));

  const bool sc = o->seqCst;
  pp_end send = {ctlA, dataA, capacity - 1, capacity, 0, 0, sc};
  pp_end recv = {ctlB, dataB, capacity - 1, capacity, 0, 0, sc};
  echo_arg echo = {{ctlA, dataA, capacity - 1, capacity, 0, 0, sc},
                   {ctlB, dataB, capacity - 1, capacity, 0, 0, sc},
                   total};
  pthread_t echoThread;
  spawn(&echoThread, echo_main, &echo);
  pin_self(0);
  atomic_fetch_add(&g_ready, 1);
  release_start(2);

  uint64_t started = now_ns();
  for (uint64_t i = 0; i < timed; i++) {
    uint64_t t0 = now_ns();
    uint32_t v;
    if (!pp_send(&send, (uint32_t)i) || !pp_recv(&recv, &v)) break;
    uint64_t t1 = now_ns();
    if (v != (uint32_t)i) {
      fail("pingpong: round %" PRIu64 " came back as %" PRIu32 ", expected %" PRIu32, i, v,
           (uint32_t)i);
      break;
    }
    if (i >= RB_PINGPONG_WARMUP) lat[i - RB_PINGPONG_WARMUP] = t1 - t0;
  }
  uint64_t spanStart = now_ns();
  for (uint64_t i = timed; i < total && !aborted(); i++) {
    uint32_t v;
    if (!pp_send(&send, (uint32_t)i) || !pp_recv(&recv, &v)) break;
    if (v != (uint32_t)i) {
      fail("pingpong: round %" PRIu64 " came back as %" PRIu32 ", expected %" PRIu32, i, v,
           (uint32_t)i);
      break;
    }
  }
  uint64_t spanEnd = now_ns();
  uint64_t elapsed = spanEnd - started;
  pthread_join(echoThread, NULL);

  printf("{\"mode\":\"pingpong\",\"elem\":\"u32\",\"ringBits\":%" PRIu64 ",\"rounds\":%" PRIu64
         ",\"warmup\":%d,\"pinned\":%s,\"order\":\"%s\"",
         o->ringBits, o->rounds, RB_PINGPONG_WARMUP, o->pin ? "true" : "false",
         ORDER_NAME(o->seqCst));
  if (aborted()) return finish(false);
  qsort(lat, o->rounds, sizeof(uint64_t), cmp_u64);
  long double mean = 0;
  for (uint64_t i = 0; i < o->rounds; i++) mean += (long double)lat[i];
  mean /= (long double)o->rounds;
  printf(",\"seconds\":%.6f,\"minNs\":%" PRIu64 ",\"p50Ns\":%" PRIu64 ",\"p99Ns\":%" PRIu64
         ",\"p999Ns\":%" PRIu64 ",\"maxNs\":%" PRIu64 ",\"meanNs\":%.1f,\"aggregateNs\":%.1f",
         (double)elapsed / 1e9, lat[0], percentile(lat, o->rounds, 50, 100),
         percentile(lat, o->rounds, 99, 100), percentile(lat, o->rounds, 999, 1000),
         lat[o->rounds - 1], (double)mean, (double)(spanEnd - spanStart) / (double)o->rounds);
  return finish(true);
}

static int run_throughput(const options *o) {
  static bench b;
  static worker workers[2 * RB_MAX_THREADS];
  const elem_ops *ops = &ELEM_OPS[o->elem];
  b.mode = o->mode;
  b.producers = (int)o->producers;
  b.consumers = (int)o->consumers;
  b.items = o->items;
  b.batch = o->batch;
  b.capacity = UINT64_C(1) << o->ringBits;
  b.mask = b.capacity - 1;
  b.pin = o->pin;
  b.seqCst = o->seqCst;
  for (int p = 0; p < b.producers; p++) {
    b.rings[p].ctl = alloc_or_die(sizeof(ring_ctl));
    b.rings[p].data = alloc_or_die(b.capacity * ELEM_SIZES[o->elem]);
    b.rings[p].count = o->items / o->producers + ((uint64_t)p < o->items % o->producers ? 1 : 0);
  }
  int threads = b.producers + b.consumers;
  for (int t = 0; t < threads; t++) {
    worker *w = &workers[t];
    w->b = &b;
    w->threadSlot = t;
    w->id = t < b.producers ? t : t - b.producers;
  }
  void *(*consumerMain)(void *) = o->mode == MODE_MPMC ? ops->mpmcConsumer : ops->drain;
  for (int t = 0; t < threads; t++) {
    spawn(&workers[t].thread, t < b.producers ? ops->producer : consumerMain, &workers[t]);
  }
  uint64_t t0 = release_start(threads);
  for (int t = 0; t < threads; t++) pthread_join(workers[t].thread, NULL);
  uint64_t t1 = now_ns();

  /* Every producer's items must have arrived exactly once: count and sum per producer. */
  uint64_t checksum = 0;
  if (!aborted()) {
    for (int p = 0; p < b.producers; p++) {
      uint64_t count = 0, sum = 0;
      for (int c = 0; c < b.consumers; c++) {
        count += workers[b.producers + c].count[p];
        sum += workers[b.producers + c].sum[p];
      }
      if (count != b.rings[p].count) {
        fail("%s: producer %d sent %" PRIu64 " items but consumers received %" PRIu64,
             MODE_NAMES[o->mode], p, b.rings[p].count, count);
        break;
      }
      uint64_t want = ops->seqSum(b.rings[p].count);
      if (sum != want) {
        fail("%s: producer %d's items sum to %" PRIu64 " at the consumers, expected %" PRIu64,
             MODE_NAMES[o->mode], p, sum, want);
        break;
      }
      checksum += sum;
    }
  }
  double seconds = (double)(t1 > t0 ? t1 - t0 : 1) / 1e9;
  printf("{\"mode\":\"%s\",\"elem\":\"%s\",\"producers\":%d,\"consumers\":%d,\"batch\":%" PRIu64
         ",\"ringBits\":%" PRIu64 ",\"items\":%" PRIu64 ",\"pinned\":%s,\"order\":\"%s\"",
         MODE_NAMES[o->mode], ELEM_NAMES[o->elem], b.producers, b.consumers, b.batch, o->ringBits,
         b.items, o->pin ? "true" : "false", ORDER_NAME(b.seqCst));
  if (aborted()) return finish(false);
  printf(",\"seconds\":%.6f,\"itemsPerSec\":%.6g,\"checksum\":\"%" PRIu64 "\"", seconds,
         (double)b.items / seconds, checksum);
  return finish(true);
}

int main(int argc, char **argv) {
  options o = parse_args(argc, argv);
  g_pin = o.pin;
  return o.mode == MODE_PINGPONG ? run_pingpong(&o) : run_throughput(&o);
}

#else /* RB_TEMPLATE_PASS: the per-element code; RB_T, RB_SFX, RB_ENCODE, RB_DECODE are set */

/**
 * Producer thread: sends the sequence numbers 0 .. count-1 into its ring,
 * publishing every `batch` items (batch 1: reserve 1, write, commit 1).
 */
static void *RB_FN(producer_main)(void *arg) {
  worker *w = arg;
  const bench *b = w->b;
  const ring_ref *r = &b->rings[w->id];
  ring_ctl *ctl = r->ctl;
  RB_T *data = r->data;
  const uint64_t capacity = b->capacity, mask = b->mask, batch = b->batch, count = r->count;
  const bool seqCst = b->seqCst;
  uint64_t tail = 0;       /* private copy of ctl->tail; only this thread writes it */
  uint64_t cachedHead = 0; /* last head loaded: at least capacity - (tail - cachedHead) free */
  uint64_t seq = 0;
  backoff bo = {0};
  start_line(w->threadSlot);
  while (seq < count) {
    uint64_t want = count - seq < batch ? count - seq : batch;
    /* reserve(want): null while fewer than `want` slots are free */
    if (capacity - (tail - cachedHead) < want) {
      cachedHead = atomic_load_explicit(&ctl->head, memory_order_acquire);
      if (tail - cachedHead > capacity) {
        fail("%s: ring %d is corrupt: tail %" PRIu64 " - head %" PRIu64
             " exceeds capacity %" PRIu64,
             MODE_NAMES[b->mode], w->id, tail, cachedHead, capacity);
        return NULL;
      }
      if (capacity - (tail - cachedHead) < want) {
        if (!snooze(&bo)) return NULL;
        continue;
      }
    }
    bo.step = 0;
    uint64_t index = tail & mask;
    uint64_t n = capacity - index < want ? capacity - index : want; /* shorter at the wrap */
    RB_T *slots = data + index;
    for (uint64_t i = 0; i < n; i++) slots[i] = RB_ENCODE(seq + i);
    seq += n;
    tail += n;
    /* commit(n): publishes slots [tail - n, tail) to the consumer */
    publish_store(&ctl->tail, tail, seqCst);
  }
  atomic_fetch_add_explicit(&g_producersDone, 1, memory_order_release);
  return NULL;
}

/** The consumer's private state for one ring (spsc/mpsc). */
typedef struct {
  uint64_t head;       /* private copy of ctl->head; only this thread writes it */
  uint64_t cachedTail; /* last tail loaded; slots [head, cachedTail) are readable */
  uint64_t expected;   /* sequence number the next item must carry */
  uint64_t sum;
} RB_FN(drain_state);

/**
 * spsc/mpsc consumer: visits the rings round-robin, takes each ring's whole
 * readable contiguous region, checks every item against the ring's expected
 * sequence number, sums it, and advances head once per region.
 */
static void *RB_FN(drain_main)(void *arg) {
  worker *w = arg;
  const bench *b = w->b;
  const int producers = b->producers;
  const uint64_t capacity = b->capacity, mask = b->mask;
  const bool seqCst = b->seqCst;
  RB_FN(drain_state) state[RB_MAX_THREADS];
  memset(state, 0, sizeof state);
  uint64_t remaining = b->items;
  backoff bo = {0};
  start_line(w->threadSlot);
  while (remaining > 0) {
    /* Read before the scan: if every producer was done, an empty scan means items were lost. */
    const bool allDone =
        atomic_load_explicit(&g_producersDone, memory_order_acquire) == producers;
    bool progressed = false;
    for (int p = 0; p < producers; p++) {
      RB_FN(drain_state) *s = &state[p];
      ring_ctl *ctl = b->rings[p].ctl;
      uint64_t head = s->head;
      /* readable(): reload tail only when the cached copy says empty */
      if (s->cachedTail == head) {
        s->cachedTail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
        if (s->cachedTail == head) continue;
        if (s->cachedTail - head > capacity) {
          fail("%s: ring %d is corrupt: tail %" PRIu64 " - head %" PRIu64
               " exceeds capacity %" PRIu64,
               MODE_NAMES[b->mode], p, s->cachedTail, head, capacity);
          return NULL;
        }
      }
      uint64_t index = head & mask;
      uint64_t n = s->cachedTail - head;
      if (n > capacity - index) n = capacity - index; /* contiguous part only */
      const RB_T *items = (const RB_T *)b->rings[p].data + index;
      const uint64_t expected = s->expected;
      uint64_t sum = 0;
      bool bad = false;
      for (uint64_t i = 0; i < n; i++) {
        RB_T v = items[i];
        bad |= v != RB_ENCODE(expected + i);
        sum += RB_DECODE(v);
      }
      if (bad || n > remaining) {
        for (uint64_t i = 0; i < n; i++) {
          if (items[i] != RB_ENCODE(expected + i)) {
            fail("%s: ring %d position %" PRIu64 " holds %" PRIu64
                 ", expected sequence number %" PRIu64
                 " (lost, duplicated or reordered item)",
                 MODE_NAMES[b->mode], p, head + i, RB_DECODE(items[i]),
                 RB_DECODE(RB_ENCODE(expected + i)));
            return NULL;
          }
        }
        fail("%s: received %" PRIu64 " items more than were sent", MODE_NAMES[b->mode],
             n - remaining);
        return NULL;
      }
      s->expected = expected + n;
      s->sum += sum;
      s->head = head + n;
      /* advance(n): publishes that slots [head, head + n) are free for the producer */
      publish_store(&ctl->head, head + n, seqCst);
      remaining -= n;
      progressed = true;
    }
    if (progressed) {
      bo.step = 0;
    } else if (allDone) {
      fail("%s: every producer finished but %" PRIu64 " of %" PRIu64 " items never arrived (lost)",
           MODE_NAMES[b->mode], remaining, b->items);
      return NULL;
    } else if (!snooze(&bo)) {
      return NULL;
    }
  }
  for (int p = 0; p < producers; p++) {
    w->count[p] = state[p].expected;
    w->sum[p] = state[p].sum;
  }
  return NULL;
}

/**
 * mpmc consumer: scans the rings starting at its own index. On each ring:
 * read head, read tail, copy min(available, 256) items to a local buffer,
 * then claim them by CAS of head from old to old + n; a failed CAS means
 * another consumer claimed them first, so retry with the fresh head. Only
 * after a successful claim are the copied items checked and counted: each
 * must equal its position's sequence number. It stops once every producer
 * has finished and a full scan begun after that found every ring empty.
 */
static void *RB_FN(mpmc_consumer_main)(void *arg) {
  worker *w = arg;
  const bench *b = w->b;
  const int producers = b->producers;
  const uint64_t capacity = b->capacity, mask = b->mask;
  const uint64_t claimMax = capacity < RB_MPMC_CLAIM ? capacity : RB_MPMC_CLAIM;
  RB_T buf[RB_MPMC_CLAIM];
  uint64_t count[RB_MAX_THREADS] = {0}, sums[RB_MAX_THREADS] = {0};
  backoff bo = {0};
  start_line(w->threadSlot);
  for (;;) {
    /* Read before the scan: if every producer was done, an empty scan means nothing is left. */
    const bool allDone =
        atomic_load_explicit(&g_producersDone, memory_order_acquire) == producers;
    bool progressed = false;
    for (int k = 0; k < producers; k++) {
      const int p = (w->id + k) % producers;
      ring_ctl *ctl = b->rings[p].ctl;
      const RB_T *data = b->rings[p].data;
      uint64_t head = atomic_load_explicit(&ctl->head, memory_order_relaxed);
      for (;;) {
        /* Step 1: tail (acquire) makes the producer's slot writes up to tail visible. */
        const uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
        if (tail == head) break; /* empty (head is never ahead of tail) */
        /* A stale head can make tail - head look larger than capacity; the CAS below then fails. */
        uint64_t n = tail - head;
        if (n > claimMax) n = claimMax;
        /*
         * Step 2: speculative copy, in at most two parts at the wrap. The producer can refill
         * these slots only after head has moved past them, and then the CAS below fails, so a
         * successful claim always holds the published items (ThreadSanitizer still reports the
         * overlapping read of a claim that then fails).
         */
        const uint64_t index = head & mask;
        const uint64_t first = capacity - index < n ? capacity - index : n;
        memcpy(buf, data + index, first * sizeof(RB_T));
        memcpy(buf + first, data, (n - first) * sizeof(RB_T));
        /* Step 3: claim [head, head + n). On failure `head` is reloaded with the current value. */
        if (!atomic_compare_exchange_weak_explicit(&ctl->head, &head, head + n,
                                                   memory_order_acq_rel, memory_order_relaxed)) {
          continue;
        }
        /* Step 4: the copy is ours; check every item against its position. */
        uint64_t sum = 0;
        bool bad = false;
        for (uint64_t i = 0; i < n; i++) {
          bad |= buf[i] != RB_ENCODE(head + i);
          sum += RB_DECODE(buf[i]);
        }
        if (bad) {
          for (uint64_t i = 0; i < n; i++) {
            if (buf[i] != RB_ENCODE(head + i)) {
              fail("mpmc: consumer %d claimed ring %d position %" PRIu64 " holding %" PRIu64
                   ", expected sequence number %" PRIu64 " (lost, duplicated or reordered item)",
                   w->id, p, head + i, RB_DECODE(buf[i]), RB_DECODE(RB_ENCODE(head + i)));
              return NULL;
            }
          }
        }
        count[p] += n;
        sums[p] += sum;
        head += n;
        progressed = true;
      }
    }
    if (progressed) {
      bo.step = 0;
    } else if (allDone) {
      break;
    } else if (!snooze(&bo)) {
      return NULL;
    }
  }
  for (int p = 0; p < producers; p++) {
    w->count[p] = count[p];
    w->sum[p] = sums[p];
  }
  return NULL;
}

#endif /* RB_TEMPLATE_PASS */

/**
 * Every shared-memory offset of the ring family, in one place: the SPSC ring
 * header (`RING_LAYOUT`), the words the SPMC and MPMC channels add in its cold
 * region, the metric counters, the MPSC and MPMC channel headers, and the
 * cross-process `SharedRing` header (ringmpsc's SharedRing v1). Other files
 * name these constants and never write offsets as numbers. (The broadcast
 * ring and the buffer pool have layouts of their own, in
 * `src/broadcast/_layout.ts` and `src/_buffer_pool_layout.ts`.)
 *
 * A ring in a `SharedArrayBuffer` (`RING_LAYOUT`; byte offsets from the
 * ring's start; positions are free-running u64, little-endian):
 *
 * ```text
 *   0  [producer hot] tail u64        written by the producer only (release on commit)
 *  64                 identity 32 bytes  what the memory holds (src/_identity.ts), by its creator
 *  96                 sending u32     the tail a commit is publishing; = tail between commits
 *                                     (src/close_gate.ts); apart from the tail's line, which a
 *                                     polling consumer holds, so announcing does not take it back
 * 128  [consumer hot] head u64        written by the consumer only (release on advance)
 * 256  [cold]         active u32      MPSC slot state: 0 free, 1 owned by a producer, 2 retired
 * 260                 closed u32      0 open → 1 closing → 2 closed, by close() (src/close_gate.ts)
 * 264                 consumerWaiters u32   consumers sleeping for data
 * 268                 producerWaiters u32   producers sleeping for room
 * 272                 consumerSeq u32 bumped by a commit that found consumerWaiters > 0
 * 276                 producerSeq u32 bumped by an advance that found producerWaiters > 0
 * 280                 metrics 12 × f64 (only with enableMetrics), each counter one writer
 * 376                 SPMC: consumers u32 (consumers registered now)
 * 380                 SPMC: ids u32 (consumer ids handed out; only grows)
 * 376                 MPMC: hotness u32 (+1 per commit, −1 per steal)
 * 380                 MPMC: ownerConsumer i32 (reserved)
 * 384  [data]         capacity × element bytes, 64-byte aligned
 * ```
 *
 * The SharedRing header (512 bytes; data from byte 512; ringmpsc writes the
 * whole header once at create and its padding 0x18C–0x1FF stays zero):
 *
 * ```text
 * 0x000 magic u64 = 0x0044524853474E52 ("RNGSHRD\0")   written once by the creator
 * 0x008 version u32 = 1        0x00C ring_bits u32
 * 0x010 capacity u64           0x018 capacity_mask u64
 * 0x020 slot_size u32          0x024 header_size u32 = 512
 * 0x028 total_size u64         0x030 creator_pid u32      0x034 generation u32 = 1
 * 0x080 tail u64               producer only; release store on commit
 * 0x088 cached_head u64        (ringmpsc's producer cache)
 * 0x090 heartbeat_ns u64       producer only; CLOCK_REALTIME ns (ours: _COARSE), stored on every commit
 * 0x100 head u64               consumer only; release store on advance
 * 0x108 cached_tail u64        (ringmpsc's consumer cache)
 * 0x180 consumer_waiters u32   0x184 producer_waiters u32   0x188 closed u32
 * 0x198 active u32
 * 0x1C0 sending u32            this library's close gate (src/close_gate.ts), on a line of its own
 * 0x1C4 announced u32          1 once a producer of this library committed (the gate holds from then on)
 * 0x18C–0x1FF otherwise padding: ringmpsc writes it once (zero) at create, then never reads or writes it
 * ```
 *
 * A SharedRing has no sequence words (`consumerSeq`/`producerSeq` are -1):
 * its sleepers park on the waiters word itself — where ringmpsc's commit and
 * advance FUTEX_WAKE — watching the other side's position and `closed` in the
 * same futex_waitv (src/wait_engine.ts).
 *
 * @module
 */

/** Byte offsets of a ring's shared words; each a multiple of 8 (u64) or 4 (u32). */
export interface RingLayout {
  /** u64 tail, written by the producer. */
  readonly tail: number;
  /** u64 head, written by the consumer. */
  readonly head: number;
  /** u32 active flag (MPSC slot state: free, active, retired); -1 when the layout has none. */
  readonly active: number;
  /** u32 closed state: open, closing, closed (src/close_gate.ts). */
  readonly closed: number;
  /** u32 low word of the tail a commit is publishing, written by the producer (src/close_gate.ts). */
  readonly sending: number;
  /**
   * u32 "a producer of this library committed here" (src/close_gate.ts); -1
   * for this library's own layouts, whose every producer goes through the gate.
   */
  readonly announced: number;
  /** u32 count of sleeping consumers. */
  readonly consumerWaiters: number;
  /** u32 count of sleeping producers. */
  readonly producerWaiters: number;
  /** u32 sequence consumers sleep on; -1 for a foreign layout (sleepers park on the waiters word). */
  readonly consumerSeq: number;
  /** u32 sequence producers sleep on; -1 for a foreign layout. */
  readonly producerSeq: number;
  /** 12 f64 metric counters; -1 when the layout has none. */
  readonly metrics: number;
  /** First byte of the data region; a multiple of 64. */
  readonly data: number;
  /** Longest single sleep in ms (finite where foreign peers wake other words). */
  readonly sliceMs: number;
  /**
   * Whether peers may be foreign processes that read and write all 64 bits of
   * the positions: each reload of the other side's position then also checks
   * the high words, so `tail − head` is verified in full.
   */
  readonly wide: boolean;
}

/**
 * A u64 position for a message: its high word (word `index + 1`, as it is
 * now) above `low`, the low word as the caller loaded it.
 *
 * @param words The structure's words.
 * @param index The position's low word.
 * @param low The low word as loaded.
 * @returns All 64 bits.
 */
export function position64(words: Int32Array, index: number, low: number): bigint {
  return (BigInt(Atomics.load(words, index + 1) >>> 0) << 32n) | BigInt(low >>> 0);
}

/** The layout of a ring in a `SharedArrayBuffer`, as drawn at the top of this file. */
export const RING_LAYOUT: RingLayout = Object.freeze({
  tail: 0,
  sending: 96,
  announced: -1,
  head: 128,
  active: 256,
  closed: 260,
  consumerWaiters: 264,
  producerWaiters: 268,
  consumerSeq: 272,
  producerSeq: 276,
  metrics: 280,
  data: 384,
  sliceMs: Infinity,
  wide: false,
});

/**
 * Where the identity record (src/_identity.ts) sits: byte 64 of every ring in
 * `RING_LAYOUT` (a cache line of its own, apart from the tail's), of an MPSC
 * channel's header, and of an MPMC channel's ring 0. Written once by the
 * creator, read by `fromHandle`; nothing else may write these 32 bytes.
 */
export const IDENTITY_OFFSET = 64;

/** SPMC channels: u32 count of consumers registered now, in the ring's cold region. */
export const SPMC_CONSUMERS = 376;
/** SPMC channels: u32 count of consumer ids handed out (only grows), in the ring's cold region. */
export const SPMC_IDS = 380;
/** MPMC rings: u32 hotness (+1 per commit, −1 per steal), in the ring's cold region. */
export const MPMC_HOTNESS = 376;

// ── Metric counters: f64 slots from `RingLayout.metrics`, one writer each ──

/** The counter fields, in their shared-memory order (one f64 each). */
export const METRIC_FIELDS = [
  "messagesSent",
  "messagesReceived",
  "batchesSent",
  "batchesReceived",
  "reserveSpins",
  "reserveFailures",
  "totalWaitNs",
  "maxBatchSize",
  "latencySumNs",
  "latencyCount",
  "latencyMinNs",
  "latencyMaxNs",
] as const;

/** Bytes the counters take in shared memory. */
export const METRICS_BYTES = METRIC_FIELDS.length * 8;

/** Counter index of items committed (producer). */
export const M_MESSAGES_SENT = 0;
/** Counter index of items consumed (consumer). */
export const M_MESSAGES_RECEIVED = 1;
/** Counter index of commits (producer). */
export const M_BATCHES_SENT = 2;
/** Counter index of consume batches (consumer). */
export const M_BATCHES_RECEIVED = 3;
/** Counter index of reserve retries that found the ring full (producer). */
export const M_RESERVE_SPINS = 4;
/** Counter index of reserves that gave up (producer). */
export const M_RESERVE_FAILURES = 5;
/** Counter index of time spent in blocking waits, ns (either side; approximate). */
export const M_TOTAL_WAIT_NS = 6;
/** Counter index of the largest batch consumed (consumer). */
export const M_MAX_BATCH_SIZE = 7;
/** Counter index of the sum of per-batch handler latencies, ns (consumer). */
export const M_LATENCY_SUM_NS = 8;
/** Counter index of batches whose latency was recorded (consumer). */
export const M_LATENCY_COUNT = 9;
/** Counter index of the shortest recorded batch latency, ns (consumer). */
export const M_LATENCY_MIN_NS = 10;
/** Counter index of the longest recorded batch latency, ns (consumer). */
export const M_LATENCY_MAX_NS = 11;

// ── Channel headers (u32 word indexes; rings follow at CHANNEL_HEADER_BYTES) ──

/** Bytes of an MPSC or MPMC channel header; ring 0 starts here. */
export const CHANNEL_HEADER_BYTES = 128;
/** MPSC: closed state: open, closing, closed (src/close_gate.ts). Word 0 is unused. */
export const MPSC_CLOSED = 1;
/** MPSC: ring ids handed out so far; only grows, ≤ MAX_RINGS. */
export const MPSC_RINGS = 2;
/** MPSC and MPMC: the sequence the consumers sleep on (the doorbell). */
export const CHANNEL_DOORBELL_SEQ = 4;
/** MPSC and MPMC: count of sleeping consumers. */
export const CHANNEL_DOORBELL_WAITERS = 5;
/** MPMC: registered producers; only grows. */
export const MPMC_PRODUCERS = 0;
/** MPMC: closed state: open, closing, closed (src/close_gate.ts). Word 1 is unused. */
export const MPMC_CLOSED = 2;
/** MPMC: first of the consumer slot words (bit c % 32 of word c >> 5 set while slot c is taken). */
export const MPMC_SLOTS = 8;
/** MPMC: words of the consumer slot bitmap, up to the end of the header. */
export const MPMC_SLOT_WORDS = CHANNEL_HEADER_BYTES / 4 - MPMC_SLOTS;

// ── SharedRing (ringmpsc SharedRing v1) header, byte offsets ──

/** Header bytes before the data. */
export const SHARED_RING_HEADER_SIZE = 512;
/** The SharedRing header's fields, byte offsets as drawn at the top of this file. */
export const SHARED_RING_HEADER = Object.freeze({
  magic: 0x000,
  version: 0x008,
  ringBits: 0x00c,
  capacity: 0x010,
  capacityMask: 0x018,
  slotSize: 0x020,
  headerSize: 0x024,
  totalSize: 0x028,
  creatorPid: 0x030,
  generation: 0x034,
  heartbeat: 0x090,
});

/** Where `Ring` finds its words in a SharedRing header. */
export const SHARED_RING_LAYOUT: RingLayout = Object.freeze({
  tail: 0x080,
  head: 0x100,
  consumerWaiters: 0x180,
  producerWaiters: 0x184,
  closed: 0x188,
  consumerSeq: -1,
  producerSeq: -1,
  active: 0x198,
  sending: 0x1c0,
  announced: 0x1c4,
  metrics: -1,
  data: SHARED_RING_HEADER_SIZE,
  sliceMs: 100,
  wide: true,
});

/**
 * `ringmpsc demo`: a Worker pipeline that moves every item through each
 * channel kind and one process boundary, shows live per-stage rates, and
 * proves at the end that nothing was lost, duplicated or reordered.
 *
 * ```text
 * producers ×P ─mpsc─▶ stage ─SharedRing─▶ relay process ─SharedRing─▶ distributor ─spmc─▶ consumers ×C
 *   (Workers)          (Worker)   (fd passed over a Unix socket)          (Worker)          (Workers)
 * ```
 *
 * The stage checks per-producer order (MPSC keeps it); the consumers count
 * items per producer and sum them; the summary compares both with what the
 * producers sent.
 *
 * @module
 */
import { mpsc, spmc, u32 } from "../mod.ts";
import { closeFd, FdServer, sendFd, SharedRing } from "../native.ts";
import { STAGES } from "./_pipeline.ts";
import { RELAY_SUBCOMMAND, selfCommand } from "./_self.ts";
import { RELAY_PERMISSIONS } from "./demo_relay.ts";
import type { DemoJob, DemoSummary } from "./demo_worker.ts";

/** Options of {@linkcode runDemo}. */
export interface DemoOptions {
  /** Producer Workers (1–15). */
  producers: number;
  /** Consumer Workers behind the SPMC fan-out. */
  consumers: number;
  /** Items each producer sends (< 2^28). */
  items: number;
  /** Ring capacity exponent of every ring in the pipeline. */
  ringBits: number;
  /** Where progress and the summary go. */
  write: (line: string) => void;
  /** Whether to redraw one progress line in place (a terminal). */
  tty: boolean;
}

/** The demo's verdict. */
export interface DemoResult {
  /** Whether every item arrived exactly once and in per-producer order. */
  ok: boolean;
  /** Items the producers sent. */
  sent: number;
  /** Items the consumers received. */
  received: number;
  /** Wall time of the run. */
  seconds: number;
}

/** The demo's one Worker module (`deno task compile` embeds it with --include). */
const WORKER = new URL("./demo_worker.ts", import.meta.url);

function startWorker(job: DemoJob): Promise<DemoSummary> {
  const worker = new Worker(WORKER, { type: "module" });
  return new Promise<DemoSummary>((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`${job.role} ${job.id}: ${e.message}`));
    };
    worker.postMessage(job);
  }).finally(() => worker.terminate());
}

function rate(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M/s` : `${(n / 1e3).toFixed(0)}k/s`;
}

/**
 * Runs the pipeline and prints progress and a summary.
 *
 * @param options Sizes and output.
 * @returns The verdict.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { producers, consumers, items, ringBits, write } = options;
  const started = performance.now();
  const channel = new mpsc.Channel(u32, { ringBits, maxProducers: producers });
  const fan = new spmc.Channel(u32, { ringBits, maxConsumers: consumers });
  using out = SharedRing.create(u32, ringBits, { name: "ringmpsc-demo-out" });
  using back = SharedRing.create(u32, ringBits, { name: "ringmpsc-demo-back" });

  // The cross-process hop: a child process receives both ring fds over a Unix socket.
  const socketPath = `${Deno.env.get("TMPDIR") ?? "/tmp"}/ringmpsc-demo-${Deno.pid}.sock`;
  using server = FdServer.listen(socketPath);
  const { command, args } = selfCommand(RELAY_SUBCOMMAND, [socketPath], RELAY_PERMISSIONS);
  const relay = new Deno.Command(command, { args, stdout: "piped", stderr: "inherit" }).spawn();
  const output = relay.output();
  const relayDied = output.then((o) => {
    throw new Error(`the relay process exited (code ${o.code}) before connecting`);
  });
  const conn = await Promise.race([server.acceptAsync(), relayDied]);
  sendFd(conn, out.getFd());
  sendFd(conn, back.getFd());
  closeFd(conn);

  const slots = producers + consumers + 2;
  const stats = new SharedArrayBuffer(slots * STAGES.length * 8);
  const ready = new SharedArrayBuffer(4);
  const base = {
    count: items,
    producers,
    stats,
    ready,
    mpsc: channel.handle(),
    spmc: fan.handle(),
    outFd: out.getFd(),
    backFd: back.getFd(),
  };
  const job = (role: DemoJob["role"], id: number): DemoJob => ({ ...base, role, id });
  // Consumers register first (a closed spmc channel takes no more); they use slots P+2 …
  const consuming = Array.from(
    { length: consumers },
    (_, c) => startWorker(job("consumer", producers + 2 + c)),
  );
  const registered = new Int32Array(ready);
  while (Atomics.load(registered, 0) < consumers) await new Promise((r) => setTimeout(r, 5));
  // Producers take slots 0 … P−1, so their ids are also their producer tags.
  const producing = Array.from({ length: producers }, (_, p) => startWorker(job("producer", p)));
  const staging = startWorker(job("stage", producers));
  const distributing = startWorker(job("distributor", producers + 1));

  const totals = new Float64Array(stats);
  const sum = (stage: number) => {
    let s = 0;
    for (let i = 0; i < slots; i++) s += totals[i * STAGES.length + stage];
    return s;
  };
  let last = STAGES.map((_, i) => sum(i));
  let lastAt = performance.now();
  const progress = setInterval(() => {
    const now = performance.now();
    const cur = STAGES.map((_, i) => sum(i));
    const line = STAGES.map((name, i) =>
      `${name} ${rate((cur[i] - last[i]) * 1000 / (now - lastAt))}`
    )
      .join(" │ ");
    write(options.tty ? `\r${line}   ` : line);
    last = cur;
    lastAt = now;
  }, 200);

  try {
    const sent = await Promise.all(producing);
    channel.close(); // every producer is done: the stage drains and closes the hop
    const [stage, distributor, received, relayed] = await Promise.all([
      staging,
      distributing,
      Promise.all(consuming),
      output,
    ]);
    clearInterval(progress);
    if (options.tty) write("\n");

    const expectedTotal = producers * items;
    const expectedSum = sent.reduce((s, p) => (s + p.checksum) >>> 0, 0);
    const gotTotal = received.reduce((s, c) => s + c.items, 0);
    const gotSum = received.reduce((s, c) => (s + c.checksum) >>> 0, 0);
    const perProducer = Array.from(
      { length: producers },
      (_, p) => received.reduce((s, c) => s + c.perProducer[p], 0),
    );
    const relayedItems = JSON.parse(new TextDecoder().decode(relayed.stdout)).relayed;
    const checks: [string, boolean][] = [
      [`stage saw every producer's items in order`, stage.error === null],
      [`stage forwarded ${stage.items} of ${expectedTotal}`, stage.items === expectedTotal],
      [`relay process forwarded ${relayedItems}`, relay !== null && relayedItems === expectedTotal],
      [`distributor fanned out ${distributor.items}`, distributor.items === expectedTotal],
      [`consumers received ${gotTotal}`, gotTotal === expectedTotal],
      [
        `each producer's ${items} items arrived exactly once`,
        perProducer.every((n) => n === items),
      ],
      [`checksum ${gotSum} matches ${expectedSum}`, gotSum === expectedSum],
    ];
    const seconds = (performance.now() - started) / 1000;
    write(
      `${producers} producers → mpsc → stage → SharedRing → relay process → SharedRing → distributor → spmc → ${consumers} consumers`,
    );
    for (const [what, ok] of checks) write(`  ${ok ? "✔" : "✘"} ${what}`);
    if (stage.error) write(`  first order error: ${stage.error}`);
    const ok = checks.every(([, c]) => c) && relayed.success;
    write(
      `${ok ? "OK" : "FAILED"}: ${gotTotal} items end to end in ${seconds.toFixed(2)} s (${
        rate(gotTotal / seconds)
      })`,
    );
    return { ok, sent: expectedTotal, received: gotTotal, seconds };
  } finally {
    clearInterval(progress);
  }
}

/**
 * A real nats-server for the bridge tests, on loopback: a free port, a
 * temporary JetStream store, started and stopped by the test, restartable
 * on the same port and store.
 *
 * The binary is `RINGMPSC_NATS_SERVER`, else .tools/bin/nats-server (what
 * scripts/install_nats_server.sh installs, as .ci/run does), else
 * `$(go env GOPATH)/bin/nats-server`, else `nats-server` on PATH. Where none
 * is found the tests are ignored with a message, except under CI
 * (`CI` or `RINGMPSC_REQUIRE_NATS` set), where the server must be there and
 * the tests fail.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;

function runs(path: string): boolean {
  try {
    return new Deno.Command(path, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

function find(): string | null {
  const home = Deno.env.get("HOME") ?? "";
  const gopath = Deno.env.get("GOPATH") ?? `${home}/go`;
  const candidates = [
    Deno.env.get("RINGMPSC_NATS_SERVER"),
    `${ROOT}.tools/bin/nats-server`,
    `${gopath}/bin/nats-server`,
    "nats-server",
  ];
  for (const c of candidates) if (c !== undefined && c !== "" && runs(c)) return c;
  return null;
}

/** The nats-server binary, or `null` where there is none. */
export const natsServerPath: string | null = find();

/** Whether the tests must find a server (CI). */
const required = Deno.env.get("CI") !== undefined ||
  Deno.env.get("RINGMPSC_REQUIRE_NATS") !== undefined;

/**
 * Whether to ignore the bridge tests here: only with no server and not in CI.
 * In CI a missing server makes the tests run and fail.
 */
export const ignoreNats: boolean = natsServerPath === null && !required;
if (ignoreNats) {
  console.error(
    "nats-server not found: the NATS bridge tests are ignored (run scripts/install_nats_server.sh)",
  );
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A nats-server process on 127.0.0.1 with JetStream. */
export class NatsServer {
  readonly port: number;
  readonly #store: string;
  #process: Deno.ChildProcess | null = null;

  private constructor(port: number, store: string) {
    this.port = port;
    this.#store = store;
  }

  /**
   * Starts a server on a free port with a fresh store.
   *
   * @returns The running server.
   * @throws {Error} If there is no nats-server binary.
   */
  static async start(): Promise<NatsServer> {
    if (natsServerPath === null) {
      throw new Error(
        "nats-server is missing: run scripts/install_nats_server.sh (CI must have it)",
      );
    }
    const server = new NatsServer(freePort(), Deno.makeTempDirSync({ prefix: "ringmpsc-nats-" }));
    await server.restart();
    return server;
  }

  /** `nats://127.0.0.1:PORT`. */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it (again: same port, same store) and waits until it takes connections. */
  async restart(): Promise<void> {
    await this.kill();
    this.#process = new Deno.Command(natsServerPath!, {
      args: ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.#store],
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 500; i++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    throw new Error(`nats-server did not listen on ${this.port} within 10 s`);
  }

  /** Stops the process (SIGTERM: it flushes its store) and waits for it. */
  async kill(): Promise<void> {
    if (this.#process === null) return;
    this.#process.kill("SIGTERM");
    await this.#process.status;
    this.#process = null;
  }

  /** Stops it and removes its store. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
    Deno.removeSync(this.#store, { recursive: true });
  }
}

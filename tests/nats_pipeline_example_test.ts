/**
 * The README's "when one host is not enough" command: the demo pipeline
 * split across two processes over NATS (examples/nats/pipeline.ts), run
 * against a real nats-server on loopback; the back half asserts that every
 * item arrived exactly once and in order, and prints its summary.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ignoreNats, NatsServer } from "./_nats_server.ts";

const EXAMPLE = new URL("../examples/nats/pipeline.ts", import.meta.url).pathname;

Deno.test({
  name: "nats pipeline example: both halves, two processes, every item once and in order",
  ignore: ignoreNats,
  async fn() {
    await using server = await NatsServer.start();
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-net",
        "--allow-run",
        "--allow-env",
        EXAMPLE,
        `--server=${server.url}`,
        "--items=20000",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.match(
      out,
      /^nats_pipeline: 60000 items from 3 producers to 2 consumers .* each exactly once, in order$/m,
    );
  },
});

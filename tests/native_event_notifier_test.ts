import assert from "node:assert/strict";
import {
  Closed,
  closeFd,
  Epoll,
  EpollFlags,
  EventNotifier,
  FdServer,
  sendFd,
  SystemError,
} from "../native.ts";
import { Errno } from "../ffi/errno.ts";
import { Child, uniqueName } from "./fixtures/_child.ts";

Deno.test("signals coalesce until consume reads and resets them", () => {
  using notifier = EventNotifier.init();
  assert.equal(notifier.consume(), 0);
  for (let i = 0; i < 5; i++) notifier.signal();
  assert.equal(notifier.consume(), 5);
  assert.equal(notifier.consume(), 0);
  assert.ok(notifier.fd() >= 0);
});

Deno.test("signalIfWaiting signals only while the waiter word is non-zero", () => {
  using notifier = EventNotifier.init();
  const waiters = new Int32Array(new SharedArrayBuffer(8));
  notifier.signalIfWaiting(waiters, 1);
  assert.equal(notifier.consume(), 0);
  Atomics.store(waiters, 1, 2);
  notifier.signalIfWaiting(waiters, 1);
  notifier.signalIfWaiting(waiters, 1);
  assert.equal(notifier.consume(), 2);
  Atomics.store(waiters, 1, -1);
  notifier.signalIfWaiting(waiters, 1);
  assert.equal(notifier.consume(), 1);
});

Deno.test("wait and waitAsync return the consumed count, 0 on timeout", async () => {
  using notifier = EventNotifier.init();
  assert.equal(notifier.wait(0), 0);
  assert.equal(notifier.wait(1), 0);
  notifier.signal();
  notifier.signal();
  assert.equal(notifier.wait(1000), 2);
  assert.equal(await notifier.waitAsync(1), 0);
  const pending = notifier.waitAsync(10_000);
  notifier.signal();
  assert.equal(await pending, 1);
});

Deno.test("closing while waitAsync is pending wakes it with Closed", async () => {
  const notifier = EventNotifier.init();
  const pending = notifier.waitAsync(20_000);
  notifier.deinit();
  await assert.rejects(pending, Closed);
  assert.throws(() => notifier.signal(), Closed);
  assert.throws(() => notifier.consume(), Closed);
  assert.throws(() => notifier.wait(0), Closed);
  await assert.rejects(notifier.waitAsync(0), Closed);
  notifier.deinit();
  notifier.close();
});

Deno.test("registerEpoll is edge-triggered and reports the eventfd", () => {
  using epoll = Epoll.create();
  using notifier = EventNotifier.init();
  notifier.registerEpoll(epoll);
  assert.deepEqual(epoll.wait(0), []);
  notifier.signal();
  assert.deepEqual(epoll.wait(1000), [{ events: EpollFlags.IN, data: notifier.fd() }]);
  // Edge-triggered: no new edge, no new event, although the counter is still 1.
  assert.deepEqual(epoll.wait(0), []);
  notifier.signal();
  assert.equal(epoll.wait(1000).length, 1);
  assert.equal(notifier.consume(), 2);
  assert.throws(
    () => notifier.registerEpoll(epoll.fd),
    (error: unknown) => error instanceof SystemError && error.errno === Errno.EEXIST,
  );
  notifier.unregisterEpoll(epoll);
  notifier.signal();
  assert.deepEqual(epoll.wait(0), []);
  notifier.unregisterEpoll(epoll);
});

Deno.test("Epoll watches several fds, level- or edge-triggered, with custom data", async () => {
  using epoll = Epoll.create();
  using a = EventNotifier.init();
  using b = EventNotifier.init();
  epoll.add(a.fd(), EpollFlags.IN, 2 ** 40 + 3);
  epoll.add(b.fd(), EpollFlags.IN);
  a.signal();
  b.signal();
  const events = epoll.wait(1000).sort((x, y) => x.data - y.data);
  assert.deepEqual(events, [
    { events: EpollFlags.IN, data: b.fd() },
    { events: EpollFlags.IN, data: 2 ** 40 + 3 },
  ]);
  // Level-triggered: still ready until consumed.
  assert.equal(epoll.wait(0).length, 2);
  b.consume();
  assert.deepEqual(epoll.wait(0), [{ events: EpollFlags.IN, data: 2 ** 40 + 3 }]);
  epoll.modify(a.fd(), EpollFlags.IN | EpollFlags.ET, 9);
  a.signal();
  assert.deepEqual(await epoll.waitAsync(1000), [{ events: EpollFlags.IN, data: 9 }]);
  epoll.remove(a.fd());
  assert.throws(
    () => epoll.remove(a.fd()),
    (error: unknown) => error instanceof SystemError && error.errno === Errno.ENOENT,
  );
  assert.throws(
    () => epoll.add(b.fd(), EpollFlags.IN),
    (error: unknown) => error instanceof SystemError && error.errno === Errno.EEXIST,
  );
  assert.throws(() => epoll.add(-1, EpollFlags.IN), RangeError);
  assert.throws(() => epoll.add(b.fd(), EpollFlags.IN, -1), RangeError);
});

Deno.test("a closed Epoll refuses use; a pending waitAsync rejects when it returns", async () => {
  const epoll = Epoll.create();
  using notifier = EventNotifier.init();
  notifier.registerEpoll(epoll);
  const pending = epoll.waitAsync(10_000);
  epoll.close();
  notifier.signal();
  await assert.rejects(pending, Closed);
  assert.throws(() => epoll.wait(0), Closed);
  assert.throws(() => epoll.add(notifier.fd(), EpollFlags.IN), Closed);
  epoll.close();
});

Deno.test("bad fds give typed errors", () => {
  assert.throws(() => EventNotifier.fromFd(-3), RangeError);
  using notifier = EventNotifier.init();
  assert.throws(
    () => notifier.registerEpoll(999_999),
    (error: unknown) => error instanceof SystemError && error.errno === Errno.EBADF,
  );
  assert.throws(() => notifier.registerEpoll(1.5), RangeError);
  const stale = EventNotifier.fromFd(999_998);
  assert.throws(
    () => stale.signal(),
    (error: unknown) => error instanceof SystemError && error.errno === Errno.EBADF,
  );
});

Deno.test("eventfd ping-pong with another process loses and doubles no signal", async () => {
  const path = `/tmp/${uniqueName("eventfd")}.sock`;
  const rounds = 200;
  using server = FdServer.listen(path);
  using toChild = EventNotifier.init();
  using toParent = EventNotifier.init();
  const child = Child.spawn("eventfd-pingpong", path, String(rounds));
  const conn = await server.acceptAsync();
  try {
    sendFd(conn, toChild.fd());
    sendFd(conn, toParent.fd());
  } finally {
    closeFd(conn);
  }
  for (let i = 0; i < rounds; i++) {
    toChild.signal();
    assert.equal(await toParent.waitAsync(10_000), 1, `round ${i}`);
  }
  assert.deepEqual(await child.next(), { rounds, errors: 0 });
  assert.equal((await child.finish()).status.code, 0);
  assert.equal(toParent.consume(), 0);
  assert.equal(toChild.consume(), 0);
});

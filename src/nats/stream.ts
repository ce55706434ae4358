/**
 * `ensureStream`: makes sure a JetStream stream exists and captures a
 * subject, for the bridge's JetStream mode.
 *
 * @module
 */

import type { NatsConnection } from "@nats-io/nats-core";
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  StorageType,
} from "@nats-io/jetstream";

/**
 * Creates the stream `name` (file storage) capturing `subject`, or adds the
 * subject to it if it exists without it.
 *
 * @param nc The connection.
 * @param name The stream's name.
 * @param subject The subject it must capture.
 */
export async function ensureStream(
  nc: NatsConnection,
  name: string,
  subject: string,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    const info = await jsm.streams.info(name);
    const subjects = info.config.subjects ?? [];
    if (!subjects.includes(subject)) {
      await jsm.streams.update(name, { subjects: [...subjects, subject] });
    }
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) {
      throw err;
    }
    await jsm.streams.add({ name, subjects: [subject], storage: StorageType.File });
  }
}

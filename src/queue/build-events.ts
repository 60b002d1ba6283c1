import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { channels } from './names.js';
import type { BuildEvent } from './payloads.js';

/**
 * Live build events over Redis pub/sub, fanned out in-process: one subscriber connection per
 * process however many SSE clients follow logs.
 */
export class BuildEvents {
  private readonly emitter = new EventEmitter();
  private subscribed: Promise<unknown> | undefined;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
  ) {
    this.emitter.setMaxListeners(0);
  }

  async publish(event: BuildEvent): Promise<void> {
    await this.publisher.publish(channels(this.prefix).events, JSON.stringify(event));
  }

  /** Calls `listener` for each event of `buildId` until the returned function is called. */
  async follow(buildId: string, listener: (event: BuildEvent) => void): Promise<() => void> {
    await this.ensureSubscribed();
    this.emitter.on(buildId, listener);
    return () => this.emitter.off(buildId, listener);
  }

  private ensureSubscribed(): Promise<unknown> {
    this.subscribed ??= (async () => {
      const channel = channels(this.prefix).events;
      this.subscriber.on('message', (ch: string, message: string) => {
        if (ch !== channel) return;
        const event = JSON.parse(message) as BuildEvent;
        this.emitter.emit(event.buildId, event);
      });
      await this.subscriber.subscribe(channel);
    })();
    return this.subscribed;
  }
}

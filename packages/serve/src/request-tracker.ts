// The requests an HTTP listener is handling, counted from arrival until their reply closes, and whether the server is
// draining: what the graceful close waits on, and what tells each reply to end its connection.
import type { ServerResponse } from 'node:http';

/** Requests in flight on one listener, and its draining switch. */
export class RequestTracker {
  #active = 0;
  #draining = false;
  #onIdle: (() => void) | undefined;

  /** Requests whose reply has not closed yet. */
  get active(): number {
    return this.#active;
  }

  /** True once the close has begun: new requests are refused, and replies end their connections. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Counts the request of `res` until its reply closes. */
  track(res: ServerResponse): void {
    this.#active++;
    res.once('close', () => {
      this.#active--;
      if (this.#active === 0) this.#onIdle?.();
    });
  }

  /** Starts draining; there is no way back. */
  drain(): void {
    this.#draining = true;
  }

  /** Resolves true once no request is in flight (at once when none is), false if `timeoutMs` passes first. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const idle = await new Promise<boolean>((resolve) => {
      if (this.#active === 0) return resolve(true);
      this.#onIdle = () => resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    clearTimeout(timer);
    return idle;
  }
}

import { gauge, histogram } from '../../foundation/telemetry/metrics.js';

/** ListenState is what the chat process knows of its LISTEN connection. */
export interface ListenState {
  readonly connected: boolean;
}

const fanOutLag = histogram(
  'fixup_chat_fanout_lag_seconds',
  "Time from a message's commit to its hand-over to a live subscriber of its conversation",
  [],
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
);

const followers = gauge(
  'fixup_chat_followers',
  "Subscriptions following a conversation in this chat process (each ended at once when its client's subscription ends)",
);

/** watchListen reports the LISTEN connection's state at each scrape: 1 connected, 0 reconnecting. */
export function watchListen(state: ListenState): void {
  gauge(
    'fixup_chat_listen_connected',
    'Whether the chat process holds its LISTEN connection for message wake-ups (1) or is reconnecting (0)',
    [],
    function () {
      this.set(state.connected ? 1 : 0);
    },
  );
}

/**
 * timedDelivery passes a conversation's stream through, recording the fan-out
 * lag of each message committed after the stream began (replayed messages are
 * catch-up, not lag).
 */
export async function* timedDelivery<M extends { sentAt: Date }>(stream: AsyncIterable<M>): AsyncGenerator<M> {
  const began = Date.now();
  followers.inc();
  try {
    for await (const message of stream) {
      const created = message.sentAt.getTime();
      if (created >= began) fanOutLag.observe(Math.max(0, Date.now() - created) / 1000);
      yield message;
    }
  } finally {
    followers.dec();
  }
}

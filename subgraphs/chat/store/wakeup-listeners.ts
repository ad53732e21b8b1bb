import { messageWakeupSchema } from '../../../contracts/chat-events.js';

/**
 * WakeupListeners are the followers of each conversation in one chat process,
 * woken by a message wake-up however it arrived (PostgreSQL NOTIFY or NATS).
 */
export class WakeupListeners {
  private readonly listeners = new Map<string, Set<(position: number) => void>>();

  /** listen adds a follower of a conversation; the function it returns removes it. */
  listen(conversationId: string, wake: (position: number) => void): () => void {
    let set = this.listeners.get(conversationId);
    if (!set) this.listeners.set(conversationId, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.listeners.delete(conversationId);
    };
  }

  /**
   * wake reads a wake-up's text (contracts/chat-events.ts) and wakes that conversation's followers; text that is not
   * one is ignored.
   */
  wake(text: string | undefined): void {
    const wakeup = messageWakeupSchema.safeParse(text);
    if (!wakeup.success) return;
    for (const wake of this.listeners.get(wakeup.data.conversationId) ?? []) wake(wakeup.data.position);
  }

  /** wakeAll makes every follower re-read the table: wake-ups may have been missed while the connection was down. */
  wakeAll(): void {
    for (const set of this.listeners.values()) for (const wake of set) wake(Number.MAX_SAFE_INTEGER);
  }
}

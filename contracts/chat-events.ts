import { z } from 'zod';

/**
 * MessageWakeup tells every chat process that a conversation has a message at
 * a position: sent as the text `<conversationId>:<position>` by the messages
 * table's trigger (pg_notify on channel `chat_messages`, in migrations/chat)
 * or published on NATS by the process that committed it.
 */
export const messageWakeupSchema = z
  .string()
  .regex(/^[^:]+:\d+$/)
  .transform((text) => {
    const at = text.lastIndexOf(':');
    return { conversationId: text.slice(0, at), position: Number(text.slice(at + 1)) };
  });
export type MessageWakeup = z.output<typeof messageWakeupSchema>;

/** encodeMessageWakeup is the text form of a wake-up. */
export function encodeMessageWakeup(wakeup: MessageWakeup): string {
  return `${wakeup.conversationId}:${wakeup.position}`;
}

/**
 * SessionFeedEvent is one entry of the user subgraph's session feed, as it
 * travels to the gateways: a user's token version went up (their older access
 * tokens are stale), or a session ended.
 */
export interface SessionFeedEvent {
  seq: number;
  kind: 'user' | 'session';
  userId: string;
  sessionId: string | null;
  tokenVersion: number | null;
  at: string;
}

import { counter } from '../../foundation/telemetry/metrics.js';

const ingested = counter(
  'fixup_audit_events_ingested_total',
  'Audit events received from the outbox relays and stored',
);
const duplicates = counter(
  'fixup_audit_events_duplicates_total',
  'Audit events received again (a relay retry) and ignored: each is stored once',
);

/** countIngest records one delivered batch: how many events came and how many were new. */
export function countIngest(received: number, stored: number): void {
  ingested.inc(stored);
  duplicates.inc(received - stored);
}

// The Events for one pass over a Service. Pure.
import { portLabel } from '../model/kube.js';
import type { PlannedEvent } from '../model/report.js';
import type { PortReport } from './outcome.js';
import { describePortReport } from './describe.js';
import { PORT_STATES } from './states.js';

/**
 * Events for this pass. A patch is always worth an Event (it only happens on a real difference);
 * every other Event follows a change of the condition, so an unchanged state is never repeated —
 * not even across a restart of hcsync, since the condition lives in the cluster.
 */
export function plannedEvents(reports: readonly PortReport[], conditionDidChange: boolean): PlannedEvent[] {
  const events: PlannedEvent[] = [];
  for (const r of reports) {
    const ev = PORT_STATES[r.outcome.state].event;
    if (ev && (ev.on === 'patch' || conditionDidChange)) events.push({ type: ev.type, reason: ev.reason, note: describePortReport(r) });
    if (conditionDidChange && 'source' in r.outcome && r.outcome.source === 'livenessProbe') {
      events.push({ type: 'Warning', reason: 'LivenessProbeFallback', note: `port ${portLabel(r.port)}: ${r.warnings.join('; ')}` });
    }
  }
  return events;
}

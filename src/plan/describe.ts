// Human text for a port's plan or outcome — one wording for the condition message, Events,
// `hcsync plan` and `hcsync diagnose`. Pure.
import { portLabel } from '../model/kube.js';
import type { FieldChange, PortPlan } from './port-plan.js';
import type { PortOutcome, PortReport } from './outcome.js';

const show = (v: string | number) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const changeText = (changes: readonly FieldChange[], arrow: string) =>
  changes.map((c) => `${c.field} ${show(c.live)} ${arrow} ${show(c.intended)}`).join(', ');

/** One port's outcome in words: what changed or differs, from which source, and why. */
function describeOutcome(o: PortOutcome): string {
  switch (o.state) {
    case 'in_sync':
      // Name the BackendConfig for the fields it owns: the lower source gave only the rest.
      if (o.ownedBy) {
        const owned = `${o.ownedBy.fields.join(', ')} from BackendConfig ${o.ownedBy.backendConfig}`;
        return o.source === 'BackendConfig'
          ? `in sync with BackendConfig ${o.ownedBy.backendConfig}`
          : `in sync (${owned}; the rest from ${o.source})`;
      }
      return `in sync with ${o.source}`;
    case 'patched':
      return `patched ${changeText(o.changes, '→')} (from ${o.source})`;
    case 'drifted':
      return `drifted: ${changeText(o.changes, '≠ intended')} (from ${o.source}); ${o.why}`;
    case 'patch_failed':
      return `patch of ${changeText(o.changes, '→')} (from ${o.source}) failed: ${o.error}`;
    case 'conflict':
      return `conflict: ${o.why}`;
    case 'invalid':
      return `invalid intent, nothing sent: ${o.why}`;
    case 'hold':
    case 'no_intent':
    case 'not_ready':
      return o.why;
  }
}

/** A plan in words, for `hcsync plan` and `diagnose` (a planned patch reads "would patch …"). */
export function describePlan(plan: PortPlan): string {
  if (plan.state === 'patch') {
    const text = plan.changes.map((c) => `${c.field} ${JSON.stringify(c.live)} → ${JSON.stringify(c.intended)}`).join(', ');
    return `would patch ${text} (from ${plan.source})`;
  }
  return describeOutcome(plan);
}

/** One port's line of the condition message and of its Events: port, check, outcome, warnings. */
export function describePortReport(r: PortReport): string {
  const warn = r.warnings.length > 0 ? ` [warning: ${r.warnings.join('; ')}]` : '';
  if (r.serviceWide) return `${describeOutcome(r.outcome)}${warn}`;
  const via = r.via ? `, ${r.via}` : '';
  return `port ${portLabel(r.port)} (${r.healthCheck ?? 'no health check'}${via}): ${describeOutcome(r.outcome)}${warn}`;
}

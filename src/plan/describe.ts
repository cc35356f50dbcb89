// Human text for a plan (plan and diagnose output), on the same wording as the condition.
import type { PortPlan } from './port-plan.js';
import { describeOutcome } from './report.js';

export function describePlan(plan: PortPlan): string {
  if (plan.state === 'patch') {
    const text = plan.changes.map((c) => `${c.field} ${JSON.stringify(c.live)} → ${JSON.stringify(c.intended)}`).join(', ');
    return `would patch ${text} (from ${plan.source})`;
  }
  return describeOutcome(plan);
}

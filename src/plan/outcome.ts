// A port's state after its plan was applied, and the report of one port that the condition,
// Events and metrics are made from.
import type { SlimServicePort } from '../model/kube.js';
import type { IntentSource } from '../intent/intent.js';
import type { FieldChange, PortPlan } from './port-plan.js';

/** A port's state after applying its plan: a planned patch became `patched` or `patch_failed`. */
export type PortOutcome =
  | Exclude<PortPlan, { state: 'patch' }>
  | { readonly state: 'patched'; readonly source: IntentSource; readonly changes: readonly FieldChange[] }
  | { readonly state: 'patch_failed'; readonly source: IntentSource; readonly changes: readonly FieldChange[]; readonly error: string };

export type PortState = PortOutcome['state'];

export interface PortReport {
  readonly port: SlimServicePort;
  readonly healthCheck?: string;
  readonly outcome: PortOutcome;
  readonly warnings: readonly string[];
  /** The report stands for the whole Service (e.g. over the port cap), not for one port. */
  readonly serviceWide?: boolean;
  /** What the check is set through besides GCP itself (a Gateway backend: its HealthCheckPolicy), named in the message. */
  readonly via?: string;
}

// Which mode applies to one Service: the cluster-wide --mode, unless the Service's hcsync.io/mode
// says otherwise. An operator can forbid the one override that widens what hcsync may do — a
// Service asking for enforce while the cluster observes — with --allow-service-enforce=false.
// Pure: the annotation comes in parsed.
import type { Mode } from '../parse/annotations.js';

export type EffectiveMode =
  | { readonly mode: 'ignore' }
  | { readonly mode: 'enforce' | 'observe'; readonly why: 'cluster' | 'annotation' | 'invalid-annotation' | 'enforce-not-allowed' };

export interface ModeInputs {
  /** --mode */
  readonly clusterMode: 'enforce' | 'observe';
  /** hcsync.io/mode, parsed: undefined when absent; ok false when unreadable. */
  readonly annotation: { readonly ok: true; readonly value: Mode | undefined } | { readonly ok: false };
  /** --allow-service-enforce */
  readonly allowServiceEnforce: boolean;
}

export function effectiveMode({ clusterMode, annotation, allowServiceEnforce }: ModeInputs): EffectiveMode {
  // An unreadable mode never patches: the error is reported and hcsync only observes.
  if (!annotation.ok) return { mode: 'observe', why: 'invalid-annotation' };
  const asked = annotation.value;
  if (asked === undefined) return { mode: clusterMode, why: 'cluster' };
  if (asked === 'ignore') return { mode: 'ignore' };
  if (asked === 'enforce' && clusterMode === 'observe' && !allowServiceEnforce) return { mode: 'observe', why: 'enforce-not-allowed' };
  return { mode: asked, why: 'annotation' };
}

// The verdict `hcsync diagnose ingress` gives for one backend: GKE's health state, what the check
// probes, what the workload intends, and the fix. Pure.
import type { PortAssessment } from './assess.js';
import { ANNOTATION } from '../parse/annotations.js';
import { describePlan } from './describe.js';

type Verdict = 'OK' | 'UNHEALTHY' | 'DRIFTED' | 'NOT_READY' | 'NO_INTENT' | 'INVALID' | 'ROLLOUT' | 'CONFLICT';

export interface Diagnosis {
  readonly verdict: Verdict;
  readonly problem: boolean;
  readonly livePath?: string;
  readonly intendedPath?: string;
  readonly source?: string;
  readonly text: string;
}

const ADD_PROBE = `add a readinessProbe or annotate ${ANNOTATION.healthPath}`;

/**
 * The verdict for one backend, the blog's investigation in one line: whether GKE's UNHEALTHY comes
 * from a check that probes the wrong path (and the fix), from drift, a rollout, missing intent,
 * or — when the check is right — from the app or the firewall.
 */
export function diagnose(a: PortAssessment): Diagnosis {
  const livePath = a.live?.block?.requestPath;
  const intendedPath =
    a.intent.kind === 'desired' ? (a.intent.desired.requestPath ?? a.intent.backendConfig?.fields.requestPath) : undefined;
  const source = a.intent.kind === 'desired' ? a.intent.source : undefined;
  const base = { ...(livePath ? { livePath } : {}), ...(intendedPath ? { intendedPath } : {}), ...(source ? { source } : {}) };
  const unhealthy = a.gkeState === 'UNHEALTHY';
  const plan = a.plan;

  if (plan.state === 'not_ready')
    return { ...base, verdict: 'NOT_READY', problem: true, text: `NOT READY: ${plan.why}; GKE's state is ${a.gkeState ?? 'unknown'}` };
  if (plan.state === 'invalid')
    return { ...base, verdict: 'INVALID', problem: true, text: `INVALID INTENT: ${plan.why}; fix the annotation or probe` };
  if (plan.state === 'conflict') return { ...base, verdict: 'CONFLICT', problem: true, text: `CONFLICT: ${plan.why}` };
  if (plan.state === 'hold') return { ...base, verdict: 'ROLLOUT', problem: unhealthy, text: `ROLLOUT: ${plan.why}` };
  if (plan.state === 'no_intent') {
    return unhealthy
      ? {
          ...base,
          verdict: 'UNHEALTHY',
          problem: true,
          text: `UNHEALTHY: the check probes ${livePath ?? '?'} and hcsync finds no intended path (${plan.why}); ${ADD_PROBE}`,
        }
      : { ...base, verdict: 'NO_INTENT', problem: false, text: `no intended path (${plan.why}); the check probes ${livePath ?? '?'}` };
  }
  if (plan.state === 'patch' || plan.state === 'drifted') {
    const pathChange = plan.changes.find((c) => c.field === 'requestPath');
    if (unhealthy && pathChange) {
      const fix = source === 'livenessProbe' ? ADD_PROBE : `run hcsync in enforce mode, which patches it (GKE never updates it by itself)`;
      return {
        ...base,
        verdict: 'UNHEALTHY',
        problem: true,
        text: `UNHEALTHY: the check probes ${String(pathChange.live)} but the app serves ${String(pathChange.intended)} (${plan.source}); ${fix}`,
      };
    }
    const fix =
      plan.state === 'drifted' && plan.source === 'BackendConfig'
        ? 'ingress-gce restores the BackendConfig value on its next sync'
        : 'hcsync patches it in enforce mode';
    return {
      ...base,
      verdict: 'DRIFTED',
      problem: true,
      text: `${unhealthy ? 'UNHEALTHY and ' : ''}DRIFTED: ${describePlan(plan)}; ${fix}`,
    };
  }
  // in_sync
  if (unhealthy) {
    return {
      ...base,
      verdict: 'UNHEALTHY',
      problem: true,
      text: `UNHEALTHY although the check probes the intended path ${livePath ?? ''}: the app must answer it with HTTP 200 (redirects and 204 fail), and the firewall must admit 130.211.0.0/22 and 35.191.0.0/16`,
    };
  }
  return {
    ...base,
    verdict: 'OK',
    problem: false,
    text: `OK: GKE says ${a.gkeState ?? 'Unknown'}; the check probes ${livePath ?? '?'} as intended (${source ?? ''})`,
  };
}

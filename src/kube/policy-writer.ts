// Writes hcsync's own HealthCheckPolicy (contract "Gateway API"): server-side apply with field
// manager `hcsync` and **no force**, so a field another manager owns is a 409 that hcsync reports
// instead of taking over; an ownerReference to the Service (by uid), so the API server's garbage
// collector deletes the policy with the Service; the managed-by label that tells it from a user's.
// Deletes only with a uid precondition, so a policy recreated under the same name (by a user) is
// never deleted by a stale decision.
import { ApiException, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from './client-node.js';
import { MANAGED_BY_HCSYNC, MANAGED_BY_LABEL, type DesiredPolicy } from '../model/gateway.js';
import type { PolicyWriter } from '../model/ports.js';
import { describeKubeError } from './errors.js';
import { HEALTHCHECKPOLICY } from './gateway-state.js';

const FIELD_MANAGER = 'hcsync';

/** The protocol block of `default.config` for a type (HealthCheckPolicy: exactly type + the matching block, docs/gke-gateway-healthchecks.md §2). */
function blockOf(type: string): string {
  return type === 'HTTPS' ? 'httpsHealthCheck' : type === 'HTTP2' ? 'http2HealthCheck' : 'httpHealthCheck';
}

/** The object hcsync applies: only the fields the intent gives (the rest stays GKE's defaults). */
function policyObject(p: DesiredPolicy): Record<string, unknown> {
  const { type, requestPath, host } = p.default.config;
  const block = { ...(requestPath !== undefined ? { requestPath } : {}), ...(host !== undefined ? { host } : {}) };
  return {
    apiVersion: `${HEALTHCHECKPOLICY.group}/${HEALTHCHECKPOLICY.version}`,
    kind: 'HealthCheckPolicy',
    metadata: {
      name: p.name,
      namespace: p.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_HCSYNC },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: p.service.name, uid: p.service.uid }],
    },
    spec: {
      targetRef: { group: '', kind: 'Service', name: p.service.name },
      default: {
        ...(p.default.checkIntervalSec !== undefined ? { checkIntervalSec: p.default.checkIntervalSec } : {}),
        ...(p.default.timeoutSec !== undefined ? { timeoutSec: p.default.timeoutSec } : {}),
        // Always the matching block: the schema wants exactly type + one block (docs/gke-gateway-healthchecks.md §2).
        config: { type, [blockOf(type)]: block },
      },
    },
  };
}

/** A write the API server refused for a reason a retry does not change (409 conflict, 422 invalid), in words. */
export class PolicyWriteRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyWriteRefused';
  }
}

/** Turns the API server's 409/422 into a specific, terminal message; anything else is passed on (retried). */
function refusal(err: unknown, what: string): Error {
  const code = err instanceof ApiException ? err.code : undefined;
  const text = describeKubeError(err);
  if (code === 409)
    return new PolicyWriteRefused(
      `${what}: the API server answered 409 Conflict (${text}); another field manager owns fields hcsync would set, and hcsync applies without force, so it leaves the policy as it is`,
    );
  if (code === 422)
    return new PolicyWriteRefused(`${what}: the API server rejected the policy as invalid, 422 (${text}); nothing was changed`);
  return err instanceof Error ? err : new Error(text);
}

export class KubePolicyWriter implements PolicyWriter {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async apply(policy: DesiredPolicy): Promise<void> {
    try {
      await this.api.patchNamespacedCustomObject(
        { ...HEALTHCHECKPOLICY, namespace: policy.namespace, name: policy.name, body: policyObject(policy), fieldManager: FIELD_MANAGER },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    } catch (err) {
      throw refusal(err, `applying HealthCheckPolicy ${policy.namespace}/${policy.name}`);
    }
  }

  async delete(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.api.deleteNamespacedCustomObject({ ...HEALTHCHECKPOLICY, namespace, name, body: { preconditions: { uid } } });
    } catch (err) {
      // Already gone: what the delete wanted.
      if (err instanceof ApiException && err.code === 404) return;
      throw refusal(err, `deleting HealthCheckPolicy ${namespace}/${name} (uid ${uid})`);
    }
  }
}

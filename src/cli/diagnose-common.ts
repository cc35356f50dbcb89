// What `hcsync diagnose ingress` and `hcsync diagnose gateway` share: the answer for an object no
// GKE controller serves, and the one-shot read of GCP.
import type { Config } from '../config/flags.js';
import { HealthCheckInventory } from '../gcp/inventory.js';
import { gcpContext } from './context.js';

/**
 * An Ingress or Gateway no GKE controller serves has no Google Cloud health check: says so (the
 * sentence, or JSON naming the object with `gke: false`) and gives exit code 0 — nothing is wrong
 * that hcsync could fix, and no GCP is read.
 */
export function reportNotGke(config: Config, out: NodeJS.WritableStream, kind: 'ingress' | 'gateway', ref: string, text: string): number {
  out.write(config.output === 'json' ? `${JSON.stringify({ [kind]: ref, gke: false, message: text }, null, 2)}\n` : `${text}\n`);
  return 0;
}

/**
 * Reads GCP once (every backend service and health check; no re-list later: a one-shot command
 * reports what it read), hands the inventory to `use`, and closes the Compute clients whatever happens.
 */
export async function withGcpInventory<T>(config: Config, use: (inventory: HealthCheckInventory) => T | Promise<T>): Promise<T> {
  const gcp = await gcpContext(config);
  try {
    const inventory = new HealthCheckInventory(gcp.adapter, { minRefreshIntervalMs: Infinity });
    await inventory.refresh();
    return await use(inventory);
  } finally {
    await gcp.clients.close();
  }
}

// `hcsync plan`: one read-only pass — what `enforce` would change, and why.
import type { Config } from '../config/flags.js';
import { assessService, checkLabel } from '../plan/assess.js';
import { HealthCheckInventory } from '../gcp/inventory.js';
import { loadSnapshot } from '../kube/snapshot.js';
import type { Logger } from '../observability/log.js';
import { portLabel } from '../model/kube.js';
import { describePlan } from '../plan/describe.js';
import { actionOf, type PlanAction, type PortPlan } from '../plan/port-plan.js';
import { assessGateway } from '../plan/gateway.js';
import { assessOptions, gcpContext, loadKubeConfig } from './context.js';
import { renderTable } from './table.js';

export interface PlanRow {
  readonly namespace: string;
  readonly service: string;
  readonly port: string;
  readonly healthCheck: string;
  readonly action: PlanAction;
  readonly state: PortPlan['state'];
  readonly source: string;
  readonly detail: string;
}

export async function runPlan(config: Config, log: Logger, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const kc = loadKubeConfig(config);
  const gcp = await gcpContext(config);
  try {
    const inventory = new HealthCheckInventory(gcp.adapter, { minRefreshIntervalMs: Infinity });
    // The cluster and GCP are read once each, at the same time.
    const [view] = await Promise.all([
      loadSnapshot(kc, config.namespace ?? (config.namespaces.length === 1 ? config.namespaces[0] : undefined)),
      inventory.refresh(),
    ]);
    const rows: PlanRow[] = [];
    for (const svc of view.services()) {
      if (config.namespaces.length > 0 && !config.namespaces.includes(svc.metadata.namespace)) continue;
      // Services behind GKE Gateways: what hcsync would write into their HealthCheckPolicy.
      const g = assessGateway(svc, view, inventory, assessOptions(config, log));
      for (const p of g.managed ? g.ports : []) {
        rows.push({
          namespace: svc.metadata.namespace,
          service: svc.metadata.name,
          port: portLabel(p.port),
          healthCheck: p.live?.name ?? '',
          action: actionOf(p.plan),
          state: p.plan.state,
          source: p.intent.kind === 'desired' ? p.intent.source : '',
          detail: `${describePlan(p.plan)} (via ${p.via})`,
        });
      }
      const a = assessService(svc, view, inventory, assessOptions(config, log));
      if (!a.managed) continue;
      for (const p of a.ports) {
        rows.push({
          namespace: svc.metadata.namespace,
          service: svc.metadata.name,
          port: portLabel(p.port),
          healthCheck: p.backend?.healthCheck ? checkLabel(p.backend.healthCheck) : '',
          action: actionOf(p.plan),
          state: p.plan.state,
          source: p.intent.kind === 'desired' ? p.intent.source : '',
          detail: describePlan(p.plan),
        });
      }
    }
    if (config.output === 'json')
      out.write(`${JSON.stringify({ changes: rows.filter((r) => r.action === 'patch').length, ports: rows }, null, 2)}\n`);
    else
      out.write(
        renderTable(
          ['NAMESPACE', 'SERVICE', 'PORT', 'HEALTH CHECK', 'ACTION', 'SOURCE', 'DETAIL'],
          rows.map((r) => [r.namespace, r.service, r.port, r.healthCheck, r.action, r.source, r.detail]),
        ),
      );
    return 0;
  } finally {
    await gcp.clients.close();
  }
}

// `hcsync diagnose ingress NAME`: the blog's whole investigation in one command. Read-only.
import { ConfigError, type Config } from '../config/flags.js';
import { assessService } from '../plan/assess.js';
import { HealthCheckInventory } from '../gcp/inventory.js';
import { loadSnapshot } from '../kube/snapshot.js';
import { portLabel } from '../model/kube.js';
import type { Logger } from '../observability/log.js';
import { backendRefersToPort } from '../parse/annotations.js';
import { diagnose, type Diagnosis } from '../plan/verdict.js';
import { assessOptions, gcpContext, loadKubeConfig } from './context.js';
import { renderTable } from './table.js';

export interface BackendRow {
  readonly service: string;
  readonly livePath?: string;
  readonly intendedPath?: string;
  readonly source?: string;
  readonly port: string;
  readonly backendService?: string;
  readonly healthCheck?: string;
  readonly gkeState?: string;
  readonly verdict: Diagnosis['verdict'] | 'MISSING';
  readonly problem: boolean;
  readonly text: string;
}

export async function runDiagnose(
  config: Config,
  args: readonly string[],
  log: Logger,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  if (args[0] !== 'ingress' || !args[1]) throw new ConfigError('usage: hcsync diagnose ingress NAME [-n NAMESPACE] [-o table|json]');
  const name = args[1];
  const namespace = config.namespace ?? 'default';
  const kc = loadKubeConfig(config);
  // The namespace's snapshot holds the Ingress too; GCP is read only once it is known to exist.
  const view = await loadSnapshot(kc, namespace);
  const ingress = view.ingress(namespace, name);
  if (!ingress) throw new ConfigError(`Ingress ${namespace}/${name} not found`);
  const gcp = await gcpContext(config);
  try {
    const inventory = new HealthCheckInventory(gcp.adapter, { minRefreshIntervalMs: Infinity });
    await inventory.refresh();
    const rows: BackendRow[] = [];
    for (const ref of ingress.backends) {
      const svc = view.service(namespace, ref.service);
      const portText = String(ref.port);
      if (!svc) {
        rows.push({
          service: ref.service,
          port: portText,
          verdict: 'MISSING',
          problem: true,
          text: `Service ${namespace}/${ref.service} does not exist`,
        });
        continue;
      }
      const a = assessService(svc, view, inventory, assessOptions(config, log));
      const port = a.managed ? a.ports.find((p) => backendRefersToPort(ref, p.port)) : undefined;
      if (!a.managed || !port) {
        rows.push({
          service: ref.service,
          port: portText,
          verdict: 'MISSING',
          problem: true,
          text: !a.managed ? a.why : `Service ${ref.service} has no port ${portText}`,
        });
        continue;
      }
      const d = diagnose(port);
      rows.push({
        service: ref.service,
        port: portLabel(port.port),
        ...(port.backend ? { backendService: port.backend.name } : {}),
        ...(port.backend?.healthCheck ? { healthCheck: port.backend.healthCheck.name } : {}),
        ...(port.gkeState ? { gkeState: port.gkeState } : {}),
        ...d,
      });
    }
    if (config.output === 'json')
      out.write(
        `${JSON.stringify({ ingress: `${namespace}/${name}`, problems: rows.filter((r) => r.problem).length, backends: rows }, null, 2)}\n`,
      );
    else {
      out.write(`Ingress ${namespace}/${name}\n`);
      out.write(
        renderTable(
          ['SERVICE', 'PORT', 'GKE STATE', 'HEALTH CHECK', 'LIVE PATH', 'INTENDED', 'SOURCE', 'VERDICT'],
          rows.map((r) => [
            r.service,
            r.port,
            r.gkeState ?? '',
            r.healthCheck ?? '',
            r.livePath ?? '',
            r.intendedPath ?? '',
            r.source ?? '',
            r.text,
          ]),
        ),
      );
    }
    return rows.some((r) => r.problem) ? 1 : 0;
  } finally {
    await gcp.clients.close();
  }
}

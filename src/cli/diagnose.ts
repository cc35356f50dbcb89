// `hcsync diagnose ingress NAME`: the blog's whole investigation in one command. Read-only.
// `hcsync diagnose gateway NAME` is diagnose-gateway.ts.
import { ConfigError, type Config } from '../config/flags.js';
import { assessService, checkLabel } from '../plan/assess.js';
import { loadSnapshot } from '../kube/snapshot.js';
import { portLabel } from '../model/kube.js';
import type { Logger } from '../observability/log.js';
import { ANNOTATION, backendRefersToPort } from '../parse/annotations.js';
import { isGkeIngress } from '../parse/ingress-class.js';
import { diagnose, type Diagnosis } from '../plan/verdict.js';
import { assessOptions, loadKubeConfig } from './context.js';
import { reportNotGke, withGcpInventory } from './diagnose-common.js';
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
  if (args[0] === 'gateway' && args[1]) return (await import('./diagnose-gateway.js')).runDiagnoseGateway(config, args[1], out);
  if (args[0] !== 'ingress' || !args[1])
    throw new ConfigError('usage: hcsync diagnose ingress|gateway NAME [-n NAMESPACE] [-o table|json]');
  const name = args[1];
  const namespace = config.namespace ?? 'default';
  const kc = loadKubeConfig(config);
  // The namespace's snapshot holds the Ingress too; GCP is read only once it is known to exist.
  const view = await loadSnapshot(kc, namespace);
  const ingress = view.ingress(namespace, name);
  if (!ingress) throw new ConfigError(`Ingress ${namespace}/${name} not found`);
  // Only GKE's Ingresses have Google Cloud health checks (parse/ingress-class.ts): say so, read no GCP.
  if (!isGkeIngress({ annotations: ingress.metadata.annotations, ingressClassName: ingress.ingressClassName })) {
    const cls = ingress.metadata.annotations?.[ANNOTATION.ingressClass] ?? ingress.ingressClassName;
    const text = `Ingress ${namespace}/${name} is not served by GKE's Ingress controller (class ${JSON.stringify(cls)}): it has no Google Cloud health check, and hcsync does not manage it`;
    return reportNotGke(config, out, 'ingress', `${namespace}/${name}`, text);
  }
  return withGcpInventory(config, (inventory) => {
    const rows: BackendRow[] = [];
    const assessed = new Map<string, ReturnType<typeof assessService> | undefined>();
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
      let a = assessed.get(ref.service);
      if (!a) assessed.set(ref.service, (a = assessService(svc, view, inventory, assessOptions(config, log))));
      // This Ingress's own check for the port: the backend its ingress.kubernetes.io/backends names
      // (another Ingress on the same Service port may have another load balancer and check).
      const entries = a.managed ? a.ports.filter((p) => backendRefersToPort(ref, p.port) && p.ingresses.includes(name)) : [];
      if (!a.managed || entries.length === 0) {
        rows.push({
          service: ref.service,
          port: portText,
          verdict: 'MISSING',
          problem: true,
          text: !a.managed ? a.why : `Service ${ref.service} has no port ${portText}`,
        });
        continue;
      }
      for (const port of entries) {
        const d = diagnose(port);
        const hc = port.backend?.healthCheck;
        rows.push({
          service: ref.service,
          port: portLabel(port.port),
          ...(port.backend ? { backendService: port.backend.name } : {}),
          ...(hc ? { healthCheck: checkLabel(hc) } : {}),
          ...(port.gkeState ? { gkeState: port.gkeState } : {}),
          ...d,
        });
      }
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
  });
}

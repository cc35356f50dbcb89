// `hcsync diagnose gateway NAME`: for each Service backend of the routes attached to one GKE
// Gateway, the live gkegw1 check, the intended one and its source, the HealthCheckPolicy in force,
// the verdict and the fix (contract "Gateway API"). Read-only.
import { CustomObjectsApi } from '../kube/client-node.js';
import { ConfigError, type Config } from '../config/flags.js';
import { loadSnapshot } from '../kube/snapshot.js';
import { GATEWAY_KINDS } from '../kube/gateway-state.js';
import { slimGateway } from '../kube/slim.js';
import { portLabel } from '../model/kube.js';
import { gkeGatewaysOf, isGkeGateway, refNamesService } from '../plan/gateway-scope.js';
import { assessGateway } from '../plan/gateway.js';
import { diagnose } from '../plan/verdict.js';
import { loadKubeConfig } from './context.js';
import { reportNotGke, withGcpInventory } from './diagnose-common.js';
import { renderTable } from './table.js';

interface GatewayBackendRow {
  readonly route: string;
  readonly service: string;
  readonly port: string;
  readonly healthCheck?: string;
  readonly livePath?: string;
  readonly intendedPath?: string;
  readonly source?: string;
  readonly policy?: string;
  readonly verdict: string;
  readonly problem: boolean;
  readonly text: string;
}

/** Diagnoses the backends of one Gateway; exit code 1 when a backend has a problem (as `diagnose ingress`). */
export async function runDiagnoseGateway(config: Config, name: string, out: NodeJS.WritableStream): Promise<number> {
  const namespace = config.namespace ?? 'default';
  const kc = loadKubeConfig(config);
  let raw: unknown;
  try {
    raw = await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ ...GATEWAY_KINDS.gateways, namespace, name });
  } catch (e) {
    const code = (e as { code?: number }).code;
    if (code === 404) throw new ConfigError(`Gateway ${namespace}/${name} not found (or the Gateway API is not installed)`);
    throw e;
  }
  const gw = slimGateway(raw);
  // Routes and Services may sit in other namespaces (parentRefs, ReferenceGrants): read them all.
  const view = await loadSnapshot(kc);
  if (!isGkeGateway(gw, view)) {
    const text = `Gateway ${namespace}/${name} is of class ${JSON.stringify(gw.gatewayClassName)}, not served by GKE's Gateway controller: it has no Google Cloud health check, and hcsync does not manage it`;
    return reportNotGke(config, out, 'gateway', `${namespace}/${name}`, text);
  }
  return withGcpInventory(config, (inventory) => {
    const opts = { mode: config.mode, inferFromLiveness: config.inferFromLiveness, allowServiceEnforce: config.allowServiceEnforce };
    const rows: GatewayBackendRow[] = [];
    const key = `${namespace}/${name}`;
    for (const route of view.allRoutes()) {
      if (!route.parentRefs.some((p) => p.name === name)) continue;
      const routeText = `${route.kind} ${route.metadata.namespace}/${route.metadata.name}`;
      const attached = gkeGatewaysOf(route, view).includes(key);
      for (const ref of route.backendRefs) {
        const svcNs = ref.namespace ?? route.metadata.namespace;
        const svc = view.service(svcNs, ref.name);
        const port = ref.port === undefined ? '?' : String(ref.port);
        const missing = (text: string) =>
          rows.push({ route: routeText, service: `${svcNs}/${ref.name}`, port, verdict: 'MISSING', problem: true, text });
        if (!attached) {
          missing(`${routeText} is not attached to this Gateway (not named in parentRefs, or rejected by GKE)`);
          continue;
        }
        if (!svc) {
          missing(`Service ${svcNs}/${ref.name} does not exist`);
          continue;
        }
        if (!refNamesService(ref, route.metadata.namespace, svc)) continue;
        const a = assessGateway(svc, view, inventory, opts);
        const entry = a.managed ? a.ports.find((p) => p.port.port === ref.port && p.scope.routes.includes(routeText)) : undefined;
        if (!a.managed || !entry) {
          missing(!a.managed ? a.why : `backendRef to port ${port} does not count (${a.ignored.join('; ') || 'see hcsync plan'})`);
          continue;
        }
        const d = diagnose({
          port: entry.port,
          id: 'gateway',
          ...(entry.live ? { live: entry.live } : {}),
          intent: entry.intent,
          plan: entry.plan,
          ingresses: [],
        });
        rows.push({
          route: routeText,
          service: `${svcNs}/${ref.name}`,
          port: portLabel(entry.port),
          ...(entry.live ? { healthCheck: entry.live.name } : {}),
          policy: entry.via,
          ...d,
        });
      }
    }
    if (config.output === 'json')
      out.write(`${JSON.stringify({ gateway: key, problems: rows.filter((r) => r.problem).length, backends: rows }, null, 2)}\n`);
    else {
      out.write(`Gateway ${key} (class ${gw.gatewayClassName})\n`);
      out.write(
        renderTable(
          ['ROUTE', 'SERVICE', 'PORT', 'HEALTH CHECK', 'LIVE PATH', 'INTENDED', 'SOURCE', 'POLICY', 'VERDICT'],
          rows.map((r) => [
            r.route,
            r.service,
            r.port,
            r.healthCheck ?? '',
            r.livePath ?? '',
            r.intendedPath ?? '',
            r.source ?? '',
            r.policy ?? '',
            r.text,
          ]),
        ),
      );
    }
    return rows.some((r) => r.problem) ? 1 : 0;
  });
}

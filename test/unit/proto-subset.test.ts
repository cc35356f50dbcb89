// The Compute descriptor cut down to the services hcsync calls (src/gcp/proto-subset.ts): the
// closure is complete (protobufjs resolves every type of the subset, on the real descriptor of the
// installed @google-cloud/compute), and everything else of the 12 MB descriptor is gone.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { protoSubset, type ProtoNode } from '../../src/gcp/proto-subset.js';
import { createComputeClients, endpointOptions } from '../../src/gcp/clients.js';

const fromCompute = createRequire(createRequire(import.meta.url).resolve('@google-cloud/compute/build/src/v1/health_checks_client.js'));
const SERVICES = ['HealthChecks', 'RegionHealthChecks', 'BackendServices', 'RegionBackendServices', 'GlobalOperations', 'RegionOperations'];

const pkg = (n: ProtoNode, path: string): ProtoNode => path.split('.').reduce<ProtoNode>((x, s) => x.nested?.[s] as ProtoNode, n);

const synthetic: ProtoNode = {
  nested: {
    google: {
      nested: {
        api: { nested: { Http: { fields: { rules: { type: 'HttpRule' } } }, HttpRule: { fields: {} } } },
        protobuf: { nested: { Any: { fields: { value: { type: 'bytes' } } } } },
        acme: {
          nested: {
            v1: {
              options: { go_package: 'x' },
              nested: {
                Things: { methods: { Get: { requestType: 'GetThingRequest', responseType: 'Thing' } } },
                Others: { methods: { Get: { requestType: 'GetOtherRequest', responseType: 'Other' } } },
                GetThingRequest: { fields: { name: { type: 'string' } } },
                Thing: {
                  fields: { part: { type: 'Part' }, kind: { type: 'Thing.Kind' }, any: { type: 'google.protobuf.Any' } },
                  nested: { Kind: { values: { A: 0 } } },
                },
                Part: { fields: { sub: { type: '.google.acme.v1.Sub' } } },
                Sub: { fields: { loop: { type: 'Part' } } },
                GetOtherRequest: { fields: {} },
                Other: { fields: { part: { type: 'Part' } } },
              },
            },
            v1beta: { nested: { Things: { methods: {} } } },
          },
        },
      },
    },
  },
};

describe('protoSubset', () => {
  const cases: { name: string; services: string[]; kept: string[] }[] = [
    {
      name: 'one service: its request/response types, field types transitively (relative, nested, fully qualified, cycles)',
      services: ['Things'],
      kept: ['GetThingRequest', 'Part', 'Sub', 'Thing', 'Things'],
    },
    {
      name: 'two services share what both reach',
      services: ['Things', 'Others'],
      kept: ['GetOtherRequest', 'GetThingRequest', 'Other', 'Others', 'Part', 'Sub', 'Thing', 'Things'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = protoSubset(synthetic, 'google.acme.v1', c.services);
      assert.deepEqual(Object.keys(pkg(out, 'google.acme.v1').nested ?? {}).sort(), c.kept);
      assert.deepEqual(pkg(out, 'google.acme.v1').options, { go_package: 'x' });
      assert.deepEqual(Object.keys(pkg(out, 'google.acme').nested ?? {}), ['v1'], 'sibling versions dropped');
      assert.deepEqual(Object.keys(pkg(out, 'google').nested ?? {}).sort(), ['acme', 'api', 'protobuf'], 'other packages kept whole');
      assert.ok(pkg(out, 'google.acme.v1.Thing').nested?.['Kind'], 'nested types go with their parent');
    });
  }

  it('throws, naming it, when the package or a service is missing', () => {
    assert.throws(() => protoSubset(synthetic, 'google.acme.v2', ['Things']), /no package google\.acme\.v2/);
    assert.throws(() => protoSubset(synthetic, 'google.acme.v1', ['Widgets']), /no service Widgets/);
    assert.throws(() => protoSubset(synthetic, 'google.acme.v1', ['Thing']), /no service Thing\b/);
  });

  it('on the installed Compute descriptor: every type of the subset resolves, and it is a small part of the whole', () => {
    const full = fromCompute('../../protos/protos.json') as ProtoNode;
    const subset = protoSubset(full, 'google.cloud.compute.v1', SERVICES);
    const gax = fromCompute('google-gax') as {
      fallback: { protobuf: { Root: { fromJSON(j: unknown): { resolveAll(): unknown; lookupService(n: string): unknown } } } };
    };
    const root = gax.fallback.protobuf.Root.fromJSON(subset);
    assert.doesNotThrow(() => root.resolveAll());
    for (const s of SERVICES) assert.ok(root.lookupService(`google.cloud.compute.v1.${s}`));
    const kept = Object.keys(pkg(subset, 'google.cloud.compute.v1').nested ?? {}).length;
    const all = Object.keys(pkg(full, 'google.cloud.compute.v1').nested ?? {}).length;
    assert.ok(kept < all / 4, `${kept} of ${all} v1 types kept`);
    assert.equal(pkg(subset, 'google.cloud.compute').nested?.['v1beta'], undefined);
    assert.ok(JSON.stringify(subset).length < JSON.stringify(full).length / 4);
  });
});

describe('createComputeClients', () => {
  it('all six initialise from the subset Root, each built once, sharing one auth client', async () => {
    const clients = createComputeClients(endpointOptions('http://127.0.0.1:9'));
    const hc = clients.healthChecks;
    assert.equal(clients.healthChecks, hc, 'one instance per client');
    // Every client's stub builds from the shared subset Root (a missing type would throw here).
    for (const c of [
      hc,
      clients.regionHealthChecks,
      clients.backendServices,
      clients.regionBackendServices,
      clients.globalOperations,
      clients.regionOperations,
    ]) {
      await c.initialize();
    }
    assert.equal(clients.regionHealthChecks.auth, hc.auth, 'one auth client shared');
    await clients.close();
  });

  it("caps every call's deadline at 60 s (gax keeps a finished call's closure until its deadline timer fires)", () => {
    const clients = createComputeClients(endpointOptions('http://127.0.0.1:9'));
    interface Defaults {
      _defaults: Record<string, { timeout: number }>;
    }
    for (const c of [clients.healthChecks, clients.regionHealthChecks, clients.backendServices, clients.globalOperations]) {
      const defaults = (c as unknown as Defaults)._defaults;
      for (const m of ['patch', 'get', 'aggregatedList', 'wait']) if (defaults[m]) assert.equal(defaults[m].timeout, 60_000, m);
    }
    assert.equal((clients.healthChecks as unknown as Defaults)._defaults['patch']?.timeout, 60_000);
  });
});

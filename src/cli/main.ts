#!/usr/bin/env node
// hcsync command line: run | plan | diagnose ingress NAME
import { ConfigError, FLAG_HELP, envName, parseCommandLine, type FlagName } from '../config/flags.js';
import { createLogger } from '../observability/log.js';

const USAGE = `hcsync — keeps GKE Ingress health checks in line with what the workload intends

Usage:
  hcsync run                         the controller (in-cluster, or with --kubeconfig)
  hcsync plan [-n NS] [-o table|json]  one read-only pass: what enforce would change, and why
  hcsync diagnose ingress NAME [-n NS] [-o table|json]
  hcsync diagnose gateway NAME [-n NS] [-o table|json]
                                     per backend: GKE's state, live vs intended check, verdict, fix;
                                     exits 1 when a backend has a problem

Flags (each also read from HCSYNC_<NAME>):
${(Object.keys(FLAG_HELP) as FlagName[]).map((f) => `  --${f.padEnd(27)} ${FLAG_HELP[f]}  [${envName(f)}]`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hcsync: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const [command, ...args] = parsed.positionals;
  if (parsed.help || !command) {
    process.stdout.write(USAGE);
    return parsed.help ? 0 : 2;
  }
  const log = createLogger(parsed.config.logLevel);
  try {
    switch (command) {
      case 'run':
        return await (await import('./run.js')).runController(parsed.config, log);
      case 'plan':
        return await (await import('./plan.js')).runPlan(parsed.config, log);
      case 'diagnose':
        return await (await import('./diagnose.js')).runDiagnose(parsed.config, args, log);
      case 'demo':
        // The contract's `hcsync demo`: the demo needs the test bed, which only a source checkout has.
        process.stderr.write('hcsync: the demo runs from a source checkout with `npm run demo`; this build ships no test bed\n');
        return 2;
      default:
        process.stderr.write(`hcsync: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hcsync: ${e.message}\n`);
      return 2;
    }
    log.error('hcsync failed', { error: (e as Error).message });
    return 1;
  }
}

/**
 * Exits once stdout and stderr are flushed: on a pipe, writes are asynchronous and a bare
 * process.exit() can cut `plan -o json` or `diagnose -o json` output short.
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exitAfterFlush, (e: unknown) => {
  process.stderr.write(`hcsync: ${(e as Error).stack ?? String(e)}\n`);
  exitAfterFlush(1);
});

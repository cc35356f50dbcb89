// Options that make the real @google-cloud/compute clients talk to the stand-in: plain HTTP to a
// loopback port, REST fallback transport, and a fixed bearer token so google-auth-library never
// looks for credentials or the metadata server.
import type { HealthChecksClient } from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';

/** gax's ClientOptions (what every Compute client constructor takes), with the fields we set. */
export type ComputeClientOptions = NonNullable<ConstructorParameters<typeof HealthChecksClient>[0]> & {
  apiEndpoint: string;
  port: number;
  protocol: 'http';
  fallback: true;
  authClient: OAuth2Client;
};

/**
 * `endpoint` is the stand-in's 'http://127.0.0.1:PORT'. The port must be passed separately:
 * the generated clients default `port` to 443, and that default overrides a port written into
 * `apiEndpoint`.
 */
export function computeClientOptions(endpoint: string): ComputeClientOptions {
  const url = new URL(endpoint);
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'test', expiry_date: Date.now() + 24 * 3_600_000 });
  return { apiEndpoint: url.hostname, port: Number(url.port), protocol: 'http', fallback: true, authClient };
}

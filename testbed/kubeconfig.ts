// Kubeconfig text for the test bed: one cluster, one bearer-token user, optionally impersonating.
// JSON is valid YAML, so kubectl, client-go and client-node all read the file as it is.

export interface KubeconfigParams {
  server: string;
  /** PEM of the CA that signed the API server's serving certificate. */
  caPem: string;
  token: string;
  /** e.g. 'system:serviceaccount:hcsync:hcsync'; the API server adds that SA's groups itself. */
  impersonate?: string;
}

export function kubeconfigText(params: KubeconfigParams): string {
  const user: Record<string, string> = { token: params.token };
  if (params.impersonate !== undefined) user['as'] = params.impersonate;
  const userName = params.impersonate === undefined ? 'admin' : `as-${params.impersonate}`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'hcsync-testbed',
        cluster: {
          server: params.server,
          'certificate-authority-data': Buffer.from(params.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: userName, user }],
    contexts: [{ name: 'hcsync-testbed', context: { cluster: 'hcsync-testbed', user: userName } }],
    'current-context': 'hcsync-testbed',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

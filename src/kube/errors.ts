// client-node's ApiException message embeds the whole response (body and headers): logs and
// conditions get the HTTP code and the API server's own message instead.
import { ApiException } from './client-node.js';

export function describeKubeError(err: unknown): string {
  if (err instanceof ApiException) {
    let message: string | undefined;
    try {
      const body = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string } | null | undefined;
      message = body?.message;
    } catch {
      // not a Status object
    }
    return `Kubernetes API ${err.code}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

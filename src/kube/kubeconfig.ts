// A KubeConfig whose requests share one connection pool. client-node 2.0.1's
// applySecurityAuthentication builds a new undici Agent for every request (KubeConfig
// createDispatcher): every status write, Event, list page and watch opens its own TLS connection
// with its own TLS context, kept alive after the answer until undici's idle timeout. While
// converging 5,000 Services that is hundreds of open connections and TLS contexts at once (native
// memory outside the V8 heap, file descriptors, and TLS handshakes on the API server).
import { KubeConfig, type RequestContext } from './client-node.js';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

export class SharedPoolKubeConfig extends KubeConfig {
  /** One dispatcher per cluster and user, as client-node itself caches its WebSocket agents (agentCache). */
  private readonly dispatchers = new Map<string, Dispatcher>();

  /**
   * client-node's authentication (headers, a fresh token each time), then the request's dispatcher
   * replaced by the one shared for this cluster/user; the fresh one never connected and is dropped.
   */
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const fresh = context.getDispatcher();
    if (!fresh) return;
    const key = JSON.stringify([this.getCurrentCluster()?.name, this.getCurrentCluster()?.server, this.getCurrentUser()?.name]);
    const shared = this.dispatchers.get(key);
    if (shared) {
      context.setDispatcher(shared);
      void fresh.close();
    } else {
      this.dispatchers.set(key, fresh);
    }
  }
}

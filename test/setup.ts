// Root hooks for every test: nothing may leave loopback, and Google's auth library must never
// probe the GCE metadata server.
import nock from 'nock';

process.env.METADATA_SERVER_DETECTION = 'none';

export const mochaHooks = {
  beforeAll(): void {
    nock.disableNetConnect();
    nock.enableNetConnect((host: string) => host.startsWith('127.0.0.1') || host.startsWith('localhost'));
  },
  afterEach(): void {
    nock.cleanAll();
  },
};

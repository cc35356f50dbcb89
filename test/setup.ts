// Root hooks for every test: nothing may leave loopback, and Google's auth library must never
// probe the GCE metadata server.
import nock from 'nock';

process.env.METADATA_SERVER_DETECTION = 'none';

export const mochaHooks = {
  beforeAll(): void {
    nock.disableNetConnect();
    // All of 127.0.0.0/8: test-bed "Pods" are HTTP servers on 127.0.0.N, probed by the Compute stand-in.
    // This is the one place the rule is set: a file that narrows or widens it changes it for every
    // file after it (a narrowed rule once left the Gateway stand-in's Pod on 127.0.0.61 unreachable).
    nock.enableNetConnect((host: string) => /^(127\.\d+\.\d+\.\d+|localhost)(:\d+)?$/.test(host));
  },
  afterEach(): void {
    nock.cleanAll();
  },
};

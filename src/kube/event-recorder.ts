// Events on the Service (events.k8s.io/v1), as controllers record them: regarding the Service,
// with hcsync as the reporting controller and this replica as the instance.
import { EventsV1Api, type KubeConfig, V1MicroTime } from './client-node.js';
import type { SlimService } from '../model/kube.js';
import type { EventRecorder } from '../model/ports.js';
import type { PlannedEvent } from '../model/report.js';

const REPORTING_CONTROLLER = 'hcsync.io/controller';
/** events.k8s.io rejects notes over 1 KiB — bytes, not characters (k8s.io/kubernetes pkg/apis/events/validation: len(note) on the UTF-8 string). */
export const MAX_NOTE_BYTES = 1024;
const ELLIPSIS = '…';

/**
 * The note cut to at most `maxBytes` of UTF-8, ending in "…" when cut. It cuts between
 * characters (code points), never inside a multi-byte one, so the result stays valid UTF-8.
 */
export function truncateNote(note: string, maxBytes = MAX_NOTE_BYTES): string {
  if (Buffer.byteLength(note, 'utf8') <= maxBytes) return note;
  const budget = maxBytes - Buffer.byteLength(ELLIPSIS, 'utf8');
  let used = 0;
  let out = '';
  for (const ch of note) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (used + n > budget) break;
    used += n;
    out += ch;
  }
  return out + ELLIPSIS;
}

let counter = 0;
function uniqueSuffix(): string {
  counter = (counter + 1) % 0x10000;
  return `${Date.now().toString(16)}${counter.toString(16).padStart(4, '0')}`;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly events: EventsV1Api;

  constructor(
    kc: KubeConfig,
    private readonly instance: string,
  ) {
    this.events = kc.makeApiClient(EventsV1Api);
  }

  async emit(service: SlimService, event: PlannedEvent): Promise<void> {
    const { namespace, name, uid } = service.metadata;
    await this.events.createNamespacedEvent({
      namespace,
      body: {
        // client-go's recorder naming: <object>.<unique hex>; a generateName ending in '.' is invalid.
        metadata: { name: `${name}.${uniqueSuffix()}`, namespace },
        eventTime: new V1MicroTime(),
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: this.instance,
        action: event.reason === 'HealthCheckPatched' ? 'Patch' : 'Reconcile',
        reason: event.reason,
        type: event.type,
        note: truncateNote(event.note),
        regarding: { apiVersion: 'v1', kind: 'Service', namespace, name, uid },
      },
    });
  }
}

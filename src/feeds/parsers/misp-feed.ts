import type { IndicatorType } from '../../indicators';
import { clip, FeedContextValue, FeedItem, MalformedFeedError } from './feed-item';

/**
 * The MISP attribute types that become indicators of each type. A Record, so an indicator
 * type added to the registry does not compile until it is given its attribute types here
 * (an empty list when MISP has none). `cidr` has none of its own: MISP's ip-src and ip-dst
 * carry networks too, told apart by the value (see attributeIndicator).
 */
const MISP_ATTRIBUTE_TYPES: Readonly<Record<IndicatorType, readonly string[]>> = {
  ip: ['ip-src', 'ip-dst', 'ip-src|port', 'ip-dst|port'],
  cidr: [],
  domain: ['domain', 'hostname'],
  url: ['url'],
  md5: ['md5'],
  sha1: ['sha1'],
  sha256: ['sha256'],
  email: ['email-src', 'email-dst'],
};

const TYPE_OF_ATTRIBUTE: ReadonlyMap<string, IndicatorType> = new Map(
  Object.entries(MISP_ATTRIBUTE_TYPES).flatMap(([type, attributes]) =>
    attributes.map((a): [string, IndicatorType] => [a, type as IndicatorType]),
  ),
);

/** The indicator a MISP attribute stands for, or undefined when its type is none of ours. */
function attributeIndicator(
  attributeType: string,
  raw: string,
): { value: string; type: IndicatorType } | undefined {
  const type = TYPE_OF_ATTRIBUTE.get(attributeType);
  if (!type) return undefined;
  const value = attributeType.endsWith('|port') ? raw.split('|')[0] : raw;
  return { value, type: type === 'ip' && value.includes('/') ? 'cidr' : type };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An event of the manifest: its uuid and `timestamp` (Unix seconds). */
export interface MispManifestEvent {
  uuid: string;
  timestamp: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The events of a MISP feed's `manifest.json`, oldest first. */
export function mispManifestEvents(manifest: unknown): MispManifestEvent[] {
  if (!isObject(manifest)) throw new MalformedFeedError('manifest.json is not a JSON object');
  const events: MispManifestEvent[] = [];
  for (const [uuid, meta] of Object.entries(manifest)) {
    if (!UUID.test(uuid)) continue;
    const ts = isObject(meta) ? Number(meta.timestamp) : NaN;
    if (!Number.isFinite(ts)) {
      throw new MalformedFeedError(`manifest.json: event ${uuid} has no numeric timestamp`);
    }
    events.push({ uuid: uuid.toLowerCase(), timestamp: ts });
  }
  return events.sort((a, b) => a.timestamp - b.timestamp);
}

/**
 * The indicators of one MISP event file (`{"Event": {…}}`, docs/api.md §9): attributes of the
 * mapped types with `to_ids: true`, the event's own and its objects'. Deleted attributes are
 * removals. Context: `mispEvent` (uuid), `info`, `category`, `comment` (FEED_CONTEXT_FIELDS lets
 * the writer accept the camelCase name, which clients' upload context may not use).
 */
export function mispEventItems(doc: unknown): FeedItem[] {
  const event = isObject(doc) && isObject(doc.Event) ? doc.Event : null;
  if (!event) throw new MalformedFeedError('the event file has no "Event" object');
  const attributes: unknown[] = Array.isArray(event.Attribute)
    ? [...(event.Attribute as unknown[])]
    : [];
  if (Array.isArray(event.Object)) {
    for (const o of event.Object) {
      if (isObject(o) && Array.isArray(o.Attribute)) attributes.push(...(o.Attribute as unknown[]));
    }
  }
  const items: FeedItem[] = [];
  for (const a of attributes) {
    if (!isObject(a) || typeof a.type !== 'string' || typeof a.value !== 'string') continue;
    const indicator = attributeIndicator(a.type, a.value);
    if (!indicator) continue;
    const { value, type } = indicator;
    if (a.deleted === true || a.deleted === '1') {
      items.push({ kind: 'removal', indicator: value, type });
      continue;
    }
    if (a.to_ids !== true && a.to_ids !== '1') continue;
    const context: Record<string, FeedContextValue> = {};
    if (typeof event.uuid === 'string') context.mispEvent = event.uuid;
    if (typeof event.info === 'string') context.info = clip(event.info);
    if (typeof a.category === 'string') context.category = clip(a.category);
    if (typeof a.comment === 'string' && a.comment !== '') context.comment = clip(a.comment);
    items.push({ kind: 'entry', entry: { indicator: value, type, context } });
  }
  return items;
}

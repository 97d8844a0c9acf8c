import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { AuditContext } from '../../audit/audit-context';
import { MiB } from '../../common/body-parser.middleware';
import {
  MalformedBodyError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '../../common/errors/domain-errors';
import type { UploadResultDto } from './dto/indicator.dto';
import { IndicatorWriter } from './indicator-writer';
import { parseEntries } from './upload-parser';

/** docs/api.md §1: indicator uploads may be up to 128 MiB. */
const UPLOAD_LIMIT_BYTES = 128 * MiB;

export type UploadFormat = 'json' | 'ndjson';

export interface UploadOutcome {
  status: 200 | 202;
  body: UploadResultDto;
}

/** The body's media type, or a 415 naming what is accepted. */
export function uploadFormatOf(contentType: string | undefined): UploadFormat {
  const [mediaType, ...params] = (contentType ?? '').split(';');
  const media = mediaType.trim().toLowerCase();
  // The body is parsed as UTF-8 bytes: another declared charset would be misread, not decoded.
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/^"(.*)"$/, '$1');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeError(
      `Unsupported charset "${charset}"; send the upload as UTF-8`,
    );
  }
  if (media === 'application/json') return 'json';
  if (media === 'application/x-ndjson' || media === 'application/ndjson') return 'ndjson';
  throw new UnsupportedMediaTypeError(
    `Unsupported Content-Type "${contentType ?? ''}"; send application/json (an array) or application/x-ndjson (one object per line)`,
  );
}

/**
 * Streams an upload into the store: the body is parsed incrementally into entries, which
 * IndicatorWriter validates and writes in one transaction — a malformed body, a disconnect or
 * a crash leaves nothing. This class owns only the HTTP side: size limit, media type,
 * early end of the body, and the 200/202 answer.
 */
@Injectable()
export class IndicatorUploadService {
  constructor(private readonly writer: IndicatorWriter) {}

  async upload(
    supplierName: string,
    body: Readable & { complete?: boolean },
    format: UploadFormat,
    declaredLength: number | undefined,
    ctx: AuditContext,
  ): Promise<UploadOutcome> {
    if (declaredLength !== undefined && declaredLength > UPLOAD_LIMIT_BYTES) tooLarge();
    try {
      const result = await this.writer.write({
        supplierName,
        entries: parseEntries(bodyChunks(body), format),
        mode: 'upsert',
        ctx,
        audit: { action: 'indicator.upload' },
      });
      const { processed, created, updated, failed } = result;
      return {
        status: failed.length === 0 ? 200 : 202,
        body: { processed, created, updated, failed },
      };
    } catch (e) {
      if (e instanceof MalformedBodyError)
        throw new MalformedBodyError(`${e.message}; nothing was applied`);
      if (isAborted(e)) {
        throw new MalformedBodyError(
          'The request body ended early (client disconnected); nothing was applied',
        );
      }
      throw e;
    }
  }
}

/** The body's chunks, at most UPLOAD_LIMIT_BYTES of them; throws if the client left early. */
async function* bodyChunks(body: Readable & { complete?: boolean }): AsyncGenerator<Buffer> {
  let received = 0;
  // destroyOnReturn: false — on an error the socket must live on to carry the response.
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > UPLOAD_LIMIT_BYTES) tooLarge();
    yield chunk;
  }
  if (body.complete === false) {
    throw new MalformedBodyError('The request body ended early (client disconnected)');
  }
}

function tooLarge(): never {
  throw new PayloadTooLargeError(
    `The upload is larger than ${UPLOAD_LIMIT_BYTES} bytes (128 MiB); split it; nothing was applied`,
  );
}

function isAborted(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (e instanceof Error && e.message === 'aborted')
  );
}

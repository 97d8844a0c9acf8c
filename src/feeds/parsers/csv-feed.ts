import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { isIndicatorType } from '../../indicators';
import { ByteStream, clip, FeedContextValue, FeedItem, MalformedFeedError } from './feed-item';
import { MAX_LINE_BYTES } from './text-feed';

/** A column by header name, or by 0-based index. */
type CsvColumn = string | number;

export interface CsvMapping {
  valueColumn: CsvColumn;
  delimiter: string;
  header: boolean;
  typeColumn?: CsvColumn;
  contextColumns?: Record<string, CsvColumn>;
  tagsColumn?: CsvColumn;
  commentPrefix: string;
}

export const DEFAULT_CSV: CsvMapping = {
  valueColumn: 0,
  delimiter: ',',
  header: true,
  commentPrefix: '#',
};

/** Tags in one cell: separated by commas, semicolons, pipes or spaces. */
const TAG_SEPARATOR = /[,;|\s]+/;

interface Resolved {
  value: number;
  type?: number;
  tags?: number;
  context: Array<[string, number]>;
}

function resolve(mapping: CsvMapping, header: string[] | null): Resolved {
  const index = (col: CsvColumn, what: string): number => {
    if (typeof col === 'number') return col;
    const at = header ? header.indexOf(col) : -1;
    if (at === -1) {
      throw new MalformedFeedError(
        `${what} names column "${col}", which the header does not have (columns: ${(header ?? []).join(', ')})`,
      );
    }
    return at;
  };
  return {
    value: index(mapping.valueColumn, 'csv.valueColumn'),
    type:
      mapping.typeColumn === undefined ? undefined : index(mapping.typeColumn, 'csv.typeColumn'),
    tags:
      mapping.tagsColumn === undefined ? undefined : index(mapping.tagsColumn, 'csv.tagsColumn'),
    context: Object.entries(mapping.contextColumns ?? {}).map(([field, col]) => [
      field,
      index(col, `csv.contextColumns.${field}`),
    ]),
  };
}

/**
 * `csv` feeds (docs/api.md §9): RFC 4180 (quoted fields, embedded newlines, doubled quotes) read
 * by csv-parse as a stream, one record at a time, mapped to upload entries by the column
 * mapping. A named column the header lacks fails the run; a short row is that row's rejection.
 */
export async function* parseCsvFeed(
  body: ByteStream,
  mapping: CsvMapping,
): AsyncGenerator<FeedItem> {
  const records = Readable.from(body).pipe(
    parse({
      delimiter: mapping.delimiter,
      comment: mapping.commentPrefix === '' ? undefined : mapping.commentPrefix,
      comment_no_infix: true,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      max_record_size: MAX_LINE_BYTES,
      info: true,
    }),
  );
  let columns: Resolved | null = mapping.header ? null : resolve(mapping, null);
  try {
    for await (const { record, info } of records as AsyncIterable<{
      record: string[];
      info: { records: number };
    }>) {
      if (!columns) {
        columns = resolve(mapping, record);
        continue;
      }
      const value = record[columns.value];
      if (value === undefined || value === '') {
        yield {
          kind: 'rejected',
          indicator: null,
          reason: `record ${info.records} has no value in column ${columns.value}`,
        };
        continue;
      }
      const type = columns.type === undefined ? undefined : record[columns.type]?.toLowerCase();
      const context: Record<string, FeedContextValue> = {};
      for (const [field, col] of columns.context) {
        const cell = record[col];
        if (cell !== undefined && cell !== '') context[field] = clip(cell);
      }
      const tagCell = columns.tags === undefined ? undefined : record[columns.tags];
      const tags = tagCell ? tagCell.split(TAG_SEPARATOR).filter((t) => t !== '') : undefined;
      yield {
        kind: 'entry',
        entry: {
          indicator: value,
          ...(type && isIndicatorType(type) ? { type } : {}),
          ...(columns.context.length > 0 ? { context } : {}),
          ...(tags && tags.length > 0 ? { tags } : {}),
        },
      };
    }
  } catch (e) {
    if (e instanceof MalformedFeedError) throw e;
    // csv-parse reports the line and the reason (e.g. an unclosed quote at the end: a truncated body).
    throw new MalformedFeedError(`CSV: ${(e as Error).message}`);
  }
}

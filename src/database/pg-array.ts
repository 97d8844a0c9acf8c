const QUOTED = /[\\"]/g;

/**
 * A Postgres array literal (`{"a","b",NULL}`) of strings and numbers, for a parameter cast to
 * an array type (`$1::text[]`, `$2::smallint[]`, `$3::timestamptz[]`, …). node-postgres builds
 * the same text itself when it is handed a JS array, but only when the statement is sent;
 * building it earlier lets a caller do that work while the previous statement still runs.
 * Every string is quoted, so empty strings, `NULL`, spaces, commas and braces stay data.
 */
export function pgArray(values: ReadonlyArray<string | number | null>): string {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    parts[i] =
      v === null
        ? 'NULL'
        : typeof v === 'number'
          ? String(v)
          : `"${v.includes('\\') || v.includes('"') ? v.replace(QUOTED, '\\$&') : v}"`;
  }
  return `{${parts.join(',')}}`;
}

/** `pgArray`, or null when every element is null (`unnest` pads a NULL array with NULLs). */
export function pgArrayOrNull(values: ReadonlyArray<string | number | null>): string | null {
  for (const v of values) if (v !== null) return pgArray(values);
  return null;
}

import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { DEFAULT_MATCHES_LIMIT, MAX_VALUES, type SearchRequestDto } from './dto/search.dto';

const FIELDS: ReadonlySet<string> = new Set(['values', 'matchesLimit']);

/**
 * `POST /api/v1/search`'s body (SearchRequestDto), validated by hand with the global
 * ValidationPipe's messages in its order: that pipe copied and walked all 100,000 values of a
 * bulk search in one synchronous piece (30–150 ms each, which /health/live waited out). Only
 * the array itself is looked at here; each value is judged by the search (docs/api.md §5).
 */
@Injectable()
export class SearchRequestPipe implements PipeTransform<unknown, Required<SearchRequestDto>> {
  transform(body: unknown): Required<SearchRequestDto> {
    // The body parser hands over a JSON object or array (strict), never a primitive.
    const b = (body ?? {}) as Record<string, unknown>;
    const problems: string[] = [];
    for (const key of Object.keys(b)) {
      if (!FIELDS.has(key) || Array.isArray(b)) problems.push(`property ${key} should not exist`);
    }
    const values = Array.isArray(b) ? undefined : b.values;
    const matchesLimit = Array.isArray(b) ? undefined : b.matchesLimit;
    if (!Array.isArray(values)) {
      problems.push(
        `values must contain no more than ${MAX_VALUES} elements`,
        'values must contain at least 1 elements',
        'values must be an array',
      );
    } else if (values.length > MAX_VALUES) {
      problems.push(`values must contain no more than ${MAX_VALUES} elements`);
    } else if (values.length < 1) {
      problems.push('values must contain at least 1 elements');
    }
    if (matchesLimit !== undefined && matchesLimit !== null) {
      const n = typeof matchesLimit === 'number' ? matchesLimit : NaN;
      // class-validator's order: Max, Min, IsInt (the decorators bottom up).
      if (!(n <= 1000)) problems.push('matchesLimit must not be greater than 1000');
      if (!(n >= 1)) problems.push('matchesLimit must not be less than 1');
      if (!Number.isInteger(n)) problems.push('matchesLimit must be an integer number');
    }
    if (problems.length > 0) throw new BadRequestException(problems);
    return {
      values: values as unknown[],
      matchesLimit: (matchesLimit as number | null | undefined) ?? DEFAULT_MATCHES_LIMIT,
    };
  }
}

import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, ArrayUnique, IsArray, IsOptional, IsString, Matches } from 'class-validator';
import { CONTEXT_FIELD } from '../indicators/indicator-entry';

/** At most this many actionable fields per supplier (or per subscription). */
export const MAX_ACTIONABLE_FIELDS = 100;

/**
 * Validation of an optional `actionableFields`: distinct context field names (CONTEXT_FIELD),
 * at most MAX_ACTIONABLE_FIELDS. The same rule for a supplier and for a tenant's subscription.
 */
export const IsActionableFields = (): PropertyDecorator =>
  applyDecorators(
    IsOptional(),
    IsArray(),
    ArrayMaxSize(MAX_ACTIONABLE_FIELDS),
    ArrayUnique(),
    IsString({ each: true }),
    Matches(CONTEXT_FIELD, {
      each: true,
      message: `each value in actionableFields must match ${CONTEXT_FIELD.source}`,
    }),
  );

/**
 * The built-in suppliers' names (created by the first migration, which keeps its own literals:
 * migrations are history). Code and SQL name them only through these.
 */
export const INTERNAL_TI_SUPPLIER = 'InternalTI';
export const FALSE_POSITIVE_SUPPLIER = 'FalsePositive';

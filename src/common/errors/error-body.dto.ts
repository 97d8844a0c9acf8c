import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ALL_ERROR_CODES, type ErrorCode } from './error-codes';

/** The error body of every 4xx/5xx response (docs/api.md §1). */
export class ErrorBody {
  @ApiProperty({ type: 'integer', example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({
    enum: ALL_ERROR_CODES,
    enumName: 'ErrorCode',
    example: 'validation_failed',
    description:
      'Stable and machine-readable (docs/api.md, "Error codes"); `message` may be reworded',
  })
  code!: ErrorCode;

  @ApiProperty({ example: 'username must match /^[A-Za-z0-9._@-]{3,64}$/' })
  message!: string;

  @ApiPropertyOptional({
    type: 'array',
    // Validation messages are strings; rejected batch entries are objects ({index, indicator, reason}).
    items: { oneOf: [{ type: 'string' }, { type: 'object' }] },
    description: 'Per-field messages or per-entry failures',
  })
  details?: unknown[];

  @ApiProperty({ example: '3f0c9f0e-6a55-4b5e-9a43-5d1f1b7e2a10' })
  requestId!: string;
}

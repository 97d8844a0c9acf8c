import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuditCtx, type AuditContext } from '../audit/audit-context';
import { Auth } from '../auth/auth.decorator';
import { ErrorBody } from '../common/errors/error-body.dto';
import { PageQuery } from '../common/pagination';
import {
  CreateSupplierDto,
  SupplierDto,
  SupplierPageDto,
  UpdateSupplierDto,
} from './dto/supplier.dto';
import { SuppliersService } from './suppliers.service';

@ApiTags('Suppliers')
@Controller('api/v1/suppliers')
@ApiBadRequestResponse({ type: ErrorBody })
export class SuppliersController {
  constructor(private readonly suppliers: SuppliersService) {}

  /** List suppliers, built-in and custom, ordered by name (case-insensitively). */
  @Get()
  @Auth('suppliers.read')
  list(@Query() query: PageQuery): Promise<SupplierPageDto> {
    return this.suppliers.list(query.limit, query.cursor);
  }

  /** Create a supplier: enabled, confidence 50, no retention, unless told otherwise. */
  @Post()
  @Auth('suppliers.write')
  @ApiConflictResponse({
    description: 'Name taken (case-insensitively) or reserved',
    type: ErrorBody,
  })
  create(@Body() dto: CreateSupplierDto, @AuditCtx() ctx: AuditContext): Promise<SupplierDto> {
    return this.suppliers.create(dto, ctx);
  }

  /** One supplier; the name matches case-insensitively. */
  @Get(':name')
  @Auth('suppliers.read')
  @ApiNotFoundResponse({ type: ErrorBody })
  get(@Param('name') name: string): Promise<SupplierDto> {
    return this.suppliers.get(name);
  }

  /**
   * Change (or rename) a supplier.
   *
   * @remarks Send only the fields to change: a field that is absent or `null` keeps its
   * value. Built-in suppliers accept only `status` and `actionableFields`. Changing
   * `retentionMinutes` recomputes every indicator's expiry.
   */
  @Patch(':name')
  @Auth('suppliers.write')
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ description: 'Built-in restriction, or new name taken', type: ErrorBody })
  update(
    @Param('name') name: string,
    @Body() dto: UpdateSupplierDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<SupplierDto> {
    return this.suppliers.update(name, dto, ctx);
  }

  /** Delete a supplier and all its indicators. */
  @Delete(':name')
  @Auth('suppliers.write')
  @HttpCode(204)
  @ApiNotFoundResponse({ type: ErrorBody })
  @ApiConflictResponse({ description: 'Built-in suppliers cannot be deleted', type: ErrorBody })
  delete(@Param('name') name: string, @AuditCtx() ctx: AuditContext): Promise<void> {
    return this.suppliers.delete(name, ctx);
  }
}

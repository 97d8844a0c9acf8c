import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AuditCtx, type AuditContext } from '../../audit/audit-context';
import { Auth } from '../../auth/auth.decorator';
import { ErrorBody } from '../../common/errors/error-body.dto';
import { SharedSupplierDto, UpdateSharedSupplierDto } from './shared-supplier.dto';
import { SharedSuppliersService } from './shared-suppliers.service';

@ApiTags('Suppliers')
@Controller('api/v1/shared-suppliers')
@ApiBadRequestResponse({ type: ErrorBody })
export class SharedSuppliersController {
  constructor(private readonly shared: SharedSuppliersService) {}

  /**
   * List the suppliers ancestor tenants share with this one.
   *
   * @remarks Subscribed or not, ordered by name. A subscribed shared supplier's indicators
   * appear in this tenant's search (with `sharedBy`), blocklists, TAXII collections and
   * statistics; it never appears in `/suppliers` and cannot be written here.
   */
  @Get()
  @Auth('suppliers.read')
  list(): Promise<SharedSupplierDto[]> {
    return this.shared.list();
  }

  /**
   * Subscribe to (or unsubscribe from) a shared supplier.
   *
   * @remarks `actionableFields` sets which context fields are actionable for this tenant;
   * `null` or absent follows the owner's. Takes effect at once on this instance, within a
   * second on the others.
   */
  @Put(':name')
  @Auth('suppliers.write')
  @ApiNotFoundResponse({ description: 'No shared supplier of that name', type: ErrorBody })
  update(
    @Param('name') name: string,
    @Body() dto: UpdateSharedSupplierDto,
    @AuditCtx() ctx: AuditContext,
  ): Promise<SharedSupplierDto> {
    return this.shared.update(name, dto, ctx);
  }
}

import { Body, Get, Post, Put, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { DomainError, ErrorCode, usdToMicros } from '@gw/core';
import { AutoTopupSettingsService, CheckoutService } from '@gw/billing';
import { LedgerRepository } from '@gw/db';
import { AdminController } from '../common/admin-controller.decorator';
import { ListQueryDto } from '../common/pagination.dto';
import { Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { AutoTopupDto, CheckoutDto } from './billing.dto';
import { autoTopupView, decodeLedgerCursor, encodeLedgerCursor, ledgerEntryView } from './billing.views';

/** /api/billing: top-ups through Stripe Checkout, the ledger, auto top-up settings. */
@AdminController('api/billing')
export class BillingController {
  constructor(
    private readonly checkout: CheckoutService,
    private readonly autoTopup: AutoTopupSettingsService,
    private readonly ledger: LedgerRepository,
  ) {}

  @Post('checkout')
  @Requires('billing:write')
  @ApiOperation({ summary: 'Start a top-up: a Stripe Checkout Session; credits arrive when Stripe confirms the payment' })
  create(@CurrentPrincipal() p: Principal, @Body() dto: CheckoutDto) {
    return this.checkout.create(scopeOf(p), { amountMicros: usdToMicros(dto.amount), saveCard: dto.save_card ?? false });
  }

  @Get('ledger')
  @Requires('billing:read')
  @ApiOperation({ summary: "The tenant's ledger entries, newest first" })
  async entries(@CurrentPrincipal() p: Principal, @Query() q: ListQueryDto) {
    const cursor = q.cursor === undefined ? undefined : decodeLedgerCursor(q.cursor);
    if (cursor === null) throw new DomainError(ErrorCode.InvalidBody, 'cursor is not a cursor this API returned', { param: 'cursor' });
    const rows = await this.ledger.list(scopeOf(p), { limit: q.limit, cursor });
    const page = rows.slice(0, q.limit);
    return { data: page.map(ledgerEntryView), next_cursor: rows.length > q.limit ? encodeLedgerCursor(page[page.length - 1].id) : null };
  }

  @Get('auto-topup')
  @Requires('billing:read')
  async getAutoTopup(@CurrentPrincipal() p: Principal) {
    return autoTopupView(await this.autoTopup.get(scopeOf(p)));
  }

  @Put('auto-topup')
  @Requires('billing:write')
  @ApiOperation({ summary: 'Charge the saved card for `amount` whenever the balance falls below `threshold`' })
  async putAutoTopup(@CurrentPrincipal() p: Principal, @Body() dto: AutoTopupDto) {
    const change = { enabled: dto.enabled, thresholdMicros: usdToMicros(dto.threshold), amountMicros: usdToMicros(dto.amount) };
    return autoTopupView(await this.autoTopup.put(scopeOf(p), change));
  }
}

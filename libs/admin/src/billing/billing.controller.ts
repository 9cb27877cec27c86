import { Body, Get, Header, Post, Put, Query } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { DomainError, ErrorCode, usdToMicros } from '@gw/core';
import { AutoTopupSettingsService, CheckoutService } from '@gw/billing';
import { LedgerRepository } from '@gw/db';
import { AdminController } from '../common/admin-controller.decorator';
import { ListQueryDto } from '../common/pagination.dto';
import { Requires } from '../common/permissions';
import { scopeOf } from '../common/scope';
import { CurrentPrincipal, Public, type Principal } from '../auth/principal';
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

  /**
   * Where Checkout sends the payer back unless CHECKOUT_SUCCESS_URL / CHECKOUT_CANCEL_URL say
   * otherwise: a plain page that reads nothing (the credit arrives with Stripe's webhook, not
   * with this visit), so it needs no session and shows no tenant's data.
   */
  @Get('checkout/success')
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'The page Checkout returns the payer to after paying (default success URL)' })
  checkoutSuccess() {
    return returnPage('Payment received', 'Your credits are added as soon as Stripe confirms the payment, usually within seconds. Check them with GET /v1/credits.');
  }

  @Get('checkout/cancel')
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'The page Checkout returns the payer to after cancelling (default cancel URL)' })
  checkoutCancel() {
    return returnPage('Payment cancelled', 'Nothing was charged. You can start a new top-up at any time.');
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

function returnPage(title: string, text: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;
}

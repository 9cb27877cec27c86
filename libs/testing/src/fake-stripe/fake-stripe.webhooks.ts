import { setTimeout as sleep } from 'node:timers/promises';
import { stripeSignatureHeader, type FakeStripeEvent } from './fake-stripe.objects';

/**
 * How the fake delivers a batch of events (the events one action caused). Stripe promises none
 * of order, uniqueness or promptness; these knobs produce each departure on purpose.
 */
export interface DeliveryOptions {
  /** Every event is POSTed this many times. Default 1. */
  copies?: number;
  /** All copies of all events of the batch at once, rather than one after another. */
  concurrent?: boolean;
  /** Wait this long before delivering the batch. */
  delayMs?: number;
  /** Order within the batch. Default `as-emitted`. */
  order?: 'as-emitted' | 'reverse' | 'shuffle';
  /** The batch is never delivered (a webhook lost for good: the endpoint was down past Stripe's retries). */
  lost?: boolean;
}

export interface DeliveryRecord {
  eventId: string;
  type: string;
  /** The endpoint's HTTP status, or 0 when the request failed. */
  status: number;
  body: string;
  error?: string;
  at: number;
}

/** POSTs events to the configured endpoint with a real `Stripe-Signature` header. */
export class WebhookSender {
  private endpoint: { url: string; secret: string } | undefined;
  private options: DeliveryOptions = {};
  private paused = false;
  private readonly held: FakeStripeEvent[] = [];
  private readonly pending = new Set<Promise<void>>();
  readonly deliveries: DeliveryRecord[] = [];

  setEndpoint(url: string, secret: string): void {
    this.endpoint = { url, secret };
  }

  get secret(): string | undefined {
    return this.endpoint?.secret;
  }

  setOptions(options: DeliveryOptions): void {
    this.options = { ...options };
  }

  /** Hold events instead of delivering them, until `release`. */
  pause(): void {
    this.paused = true;
  }

  /** Delivers every held event as one batch (with these options, else the current ones) and resumes. */
  release(options?: DeliveryOptions): void {
    this.paused = false;
    const batch = this.held.splice(0);
    if (batch.length) this.schedule(batch, options ?? this.options);
  }

  get heldCount(): number {
    return this.held.length;
  }

  emit(events: FakeStripeEvent[]): void {
    if (!this.endpoint || events.length === 0) return;
    if (this.paused) this.held.push(...events);
    else this.schedule(events, this.options);
  }

  /** (Re)delivers given events now, whatever their history. */
  deliver(events: FakeStripeEvent[], options: DeliveryOptions = {}): void {
    this.schedule(events, options);
  }

  /** Resolves when every delivery started so far has been answered. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** The body and signature header a delivery of `event` carries (for signature tests). */
  signed(event: FakeStripeEvent, opts: { secret?: string; timestamp?: number } = {}): { payload: string; header: string } {
    const payload = JSON.stringify(event, null, 2);
    const secret = opts.secret ?? this.endpoint?.secret ?? '';
    return { payload, header: stripeSignatureHeader(payload, secret, opts.timestamp) };
  }

  private schedule(events: FakeStripeEvent[], opts: DeliveryOptions): void {
    const p = this.run(events, opts).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async run(events: FakeStripeEvent[], opts: DeliveryOptions): Promise<void> {
    if (opts.lost) return;
    if (opts.delayMs) await sleep(opts.delayMs);
    const ordered = order(events, opts.order ?? 'as-emitted');
    const copies = Math.max(1, opts.copies ?? 1);
    const sends: FakeStripeEvent[] = ordered.flatMap((e) => Array.from({ length: copies }, () => e));
    if (opts.concurrent) await Promise.all(sends.map((e) => this.send(e)));
    else for (const e of sends) await this.send(e);
  }

  private async send(event: FakeStripeEvent): Promise<void> {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    const { payload, header } = this.signed(event);
    const record: DeliveryRecord = { eventId: event.id, type: event.type, status: 0, body: '', at: Date.now() };
    try {
      const res = await fetch(endpoint.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': header, 'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)' },
        body: payload,
      });
      record.status = res.status;
      record.body = await res.text();
    } catch (e) {
      record.error = (e as Error).message;
    }
    this.deliveries.push(record);
  }
}

function order(events: FakeStripeEvent[], how: NonNullable<DeliveryOptions['order']>): FakeStripeEvent[] {
  if (how === 'reverse') return [...events].reverse();
  if (how === 'shuffle') {
    const a = [...events];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  return events;
}

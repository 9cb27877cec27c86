import { Injectable } from '@nestjs/common';

/**
 * What a process still waits for before it can serve (reliability T59: a replica started while
 * Postgres is still coming up). A component holds a gate until its first load succeeds; /readyz
 * answers 503 naming the open gates, so a load balancer sends nothing to a replica that would only
 * answer errors. Once released a gate stays released: later blips are served from what was loaded.
 */
@Injectable()
export class ReadinessGates {
  private readonly open = new Map<string, string>();

  /** `reason`: what readiness reports while the gate is held. */
  hold(name: string, reason: string): void {
    this.open.set(name, reason);
  }

  release(name: string): void {
    this.open.delete(name);
  }

  /** The gates still held, by name, with their reasons. */
  pending(): Record<string, string> {
    return Object.fromEntries(this.open);
  }
}

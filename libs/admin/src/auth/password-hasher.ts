import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

/** argon2id for passwords (slow on purpose; never used for API keys). */
@Injectable()
export class PasswordHasher {
  hash(password: string): Promise<string> {
    return argon2.hash(password, { type: argon2.argon2id });
  }

  /** Verifies against a real dummy hash when the account is unknown, so timing reveals nothing. */
  async verifyOrDummy(hash: string | undefined, password: string): Promise<boolean> {
    this.dummy ??= this.hash('dummy-password-for-timing');
    const ok = await this.verify(hash ?? (await this.dummy), password);
    return hash !== undefined && ok;
  }

  private dummy?: Promise<string>;

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }
}

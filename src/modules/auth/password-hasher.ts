import { compare, hash } from '@node-rs/bcrypt';

export class PasswordHasher {
  // Compared against when the email is unknown, so both answers take the same time.
  private readonly decoy: Promise<string>;

  constructor(private readonly cost: number) {
    this.decoy = hash('decoy-password-for-timing', cost);
  }

  hash(password: string): Promise<string> {
    return hash(password, this.cost);
  }

  async verify(password: string, passwordHash: string | undefined): Promise<boolean> {
    if (passwordHash === undefined) {
      await compare(password, await this.decoy);
      return false;
    }
    return compare(password, passwordHash);
  }
}

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dependencies } from '../composition.js';
import type { UserRole } from '../platform/database/schema.js';
import { SYSTEM_AUDIT_CONTEXT } from '../platform/audit-context.js';
import type { Principal } from '../platform/principal.js';
import { UserRepository } from '../modules/users/user.repository.js';

export interface DemoAccount {
  role: UserRole;
  email: string;
  password: string;
}

const DAY_MS = 86_400_000;
const ACCOUNTS: Array<{ role: UserRole; email: string; name: string }> = [
  { role: 'admin', email: 'admin@evently.local', name: 'Demo Admin' },
  { role: 'organizer', email: 'organizer@evently.local', name: 'Demo Organizer' },
  { role: 'user', email: 'user@evently.local', name: 'Demo Attendee' },
];

/**
 * Seeds the demo once: three accounts (passwords generated on first run and kept under the
 * data directory, so every start can print them), a 300-seat venue and three published
 * events. Running it again changes nothing and returns the same credentials.
 */
export async function seedDemo(deps: Dependencies): Promise<DemoAccount[]> {
  const credentialsFile = join(deps.config.dataDir, 'demo-credentials.json');
  const users = new UserRepository(deps.database.db);
  const organizerExists = await users.findByEmail('organizer@evently.local');
  if (organizerExists && existsSync(credentialsFile)) {
    return JSON.parse(readFileSync(credentialsFile, 'utf8')) as DemoAccount[];
  }
  if (organizerExists) return [];

  const accounts: DemoAccount[] = [];
  let organizerId = '';
  for (const account of ACCOUNTS) {
    const password = randomBytes(9).toString('base64url');
    const { user } = await deps.services.userAdmin.ensureAdmin({
      email: account.email,
      password,
      name: account.name,
    });
    // ensureAdmin creates with the admin role; demote the non-admin demo accounts.
    if (account.role !== 'admin') {
      await users.update(user.id, { role: account.role, bumpTokenEpoch: false });
    }
    if (account.role === 'organizer') organizerId = user.id;
    accounts.push({ role: account.role, email: account.email, password });
  }
  const organizer: Principal = {
    userId: organizerId,
    role: 'organizer',
    sessionId: 'demo-seed',
    jti: 'demo-seed',
    expiresAt: 0,
  };
  await createDemoCatalog(deps, organizer);
  mkdirSync(deps.config.dataDir, { recursive: true });
  writeFileSync(credentialsFile, JSON.stringify(accounts, null, 2), { mode: 0o600 });
  return accounts;
}

async function createDemoCatalog(deps: Dependencies, organizer: Principal): Promise<void> {
  const { venues, events } = deps.services;
  const rows = (prefix: string, count: number, seats: number) =>
    Array.from({ length: count }, (_, i) => ({ label: `${prefix}${i + 1}`, seats }));
  const venue = await venues.create(
    organizer,
    {
      name: 'Evently Arena',
      address: '1 Harbour Street',
      city: 'Lisbon',
      timezone: 'Europe/Lisbon',
      sections: [
        { name: 'Floor', rows: rows('F', 10, 20) },
        { name: 'Balcony', rows: rows('B', 5, 20) },
      ],
    },
    SYSTEM_AUDIT_CONTEXT,
  );
  const at = (days: number, hours = 20) => {
    const date = new Date(Date.now() + days * DAY_MS);
    date.setUTCHours(hours, 0, 0, 0);
    return date.toISOString();
  };
  const drafts = [
    await events.create.create(
      organizer,
      {
        name: 'The Midnight Orchestra',
        description: 'A night of film music with reserved seating.',
        venueId: venue.id,
        seating: 'reserved',
        startsAt: at(14),
        endsAt: at(14, 23),
        priceCents: 4500,
        currency: 'EUR',
        sectionPrices: { Floor: 6500, Balcony: 3500 },
        maxTicketsPerUser: 6,
      },
      SYSTEM_AUDIT_CONTEXT,
    ),
    await events.create.create(
      organizer,
      {
        name: 'Harbour Open Air',
        description: 'General admission festival by the river.',
        venueId: venue.id,
        seating: 'general',
        capacity: 5000,
        startsAt: at(30, 14),
        endsAt: at(30, 23),
        priceCents: 2900,
        currency: 'EUR',
        maxTicketsPerUser: 8,
      },
      SYSTEM_AUDIT_CONTEXT,
    ),
    await events.create.create(
      organizer,
      {
        name: 'New Year Gala',
        description: 'Sales open in two months; the seat map is already up.',
        venueId: venue.id,
        seating: 'reserved',
        startsAt: at(180),
        endsAt: at(180, 23),
        priceCents: 9900,
        currency: 'EUR',
        maxTicketsPerUser: 4,
        salesStartAt: at(60, 9),
      },
      SYSTEM_AUDIT_CONTEXT,
    ),
  ];
  for (const draft of drafts)
    await events.publish.publish(organizer, draft.id, SYSTEM_AUDIT_CONTEXT);
}

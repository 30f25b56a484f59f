import { AppError, notFound } from '../../platform/errors.js';
import { cursorDate, decodeCursor, toPage } from '../../platform/pagination.js';
import { type AuditContext, recordAudit } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import type { VenueRepository, VenueRow } from './venue.repository.js';
import {
  MAX_VENUE_CAPACITY,
  type CreateVenueInput,
  type VenueDetailView,
  type VenueSummaryView,
} from './venue.schemas.js';

export class VenueService {
  constructor(private readonly venues: VenueRepository) {}

  async create(
    actor: Principal,
    input: CreateVenueInput,
    audit: AuditContext,
  ): Promise<VenueDetailView> {
    assertValidTimezone(input.timezone);
    assertUniqueNames(input);
    const capacity = input.sections.reduce(
      (sum, s) => sum + s.rows.reduce((n, r) => n + r.seats, 0),
      0,
    );
    if (capacity > MAX_VENUE_CAPACITY) {
      throw new AppError('VALIDATION_FAILED', `A venue holds at most ${MAX_VENUE_CAPACITY} seats`, {
        errors: [
          { field: 'sections', message: `total seats ${capacity} exceed ${MAX_VENUE_CAPACITY}` },
        ],
      });
    }
    const row = await this.venues.insert(
      {
        owner_id: actor.userId,
        name: input.name,
        address: input.address,
        city: input.city,
        timezone: input.timezone,
        capacity,
      },
      input.sections.map((s) => ({ name: s.name, rows: s.rows })),
      (trx, venue) =>
        recordAudit(trx, {
          context: audit,
          action: 'venue.created',
          target: { type: 'venue', id: venue.id },
          after: {
            name: venue.name,
            city: venue.city,
            timezone: venue.timezone,
            capacity: venue.capacity,
            sections: input.sections.length,
          },
        }),
    );
    return { ...toSummary(row), sections: input.sections };
  }

  async get(id: string): Promise<VenueDetailView> {
    const row = await this.venues.findById(id);
    if (!row) throw notFound('Venue');
    return { ...toSummary(row), sections: await this.venues.layout(id) };
  }

  /** Every venue (any organizer may use any venue), or with `owner: 'me'` the viewer's own. */
  async list(
    query: { limit: number; cursor?: string; city?: string; owner?: 'me' },
    viewer: Principal,
  ) {
    const after = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const page = await this.venues.list({
      limit: query.limit,
      city: query.city,
      ownerId: query.owner === 'me' ? viewer.userId : undefined,
      after: after && { createdAt: cursorDate(after.createdAt), id: after.id },
    });
    return toPage(page, toSummary, (row) => ({
      createdAt: row.created_at.toISOString(),
      id: row.id,
    }));
  }
}

function toSummary(row: VenueRow): VenueSummaryView {
  return {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    address: row.address,
    city: row.city,
    timezone: row.timezone,
    capacity: row.capacity,
    createdAt: row.created_at.toISOString(),
  };
}

function assertValidTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new AppError('VALIDATION_FAILED', `Unknown time zone ${timezone}`, {
      errors: [{ field: 'timezone', message: 'must be an IANA time zone such as Europe/Berlin' }],
    });
  }
}

function assertUniqueNames(input: CreateVenueInput): void {
  const errors: Array<{ field: string; message: string }> = [];
  const sectionNames = new Set<string>();
  input.sections.forEach((section, i) => {
    if (sectionNames.has(section.name)) {
      errors.push({ field: `sections.${i}.name`, message: 'duplicates another section' });
    }
    sectionNames.add(section.name);
    const labels = new Set<string>();
    section.rows.forEach((row, j) => {
      if (labels.has(row.label)) {
        errors.push({ field: `sections.${i}.rows.${j}.label`, message: 'duplicates another row' });
      }
      labels.add(row.label);
    });
  });
  if (errors.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'Section names and row labels must be unique', {
      errors,
    });
  }
}

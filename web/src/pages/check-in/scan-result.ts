import type { paths } from '../../api/client';
import { isProblem, problemMessage } from '../../api/problems';

type CheckedIn =
  paths['/api/v1/events/{id}/check-ins']['post']['responses'][200]['content']['application/json'];

/** What one scan came to, as the door needs to see it. */
export type ScanResult =
  | { kind: 'checked_in'; holderName: string; seat: CheckedIn['seat']; at: string }
  | { kind: 'already'; at: string | null }
  | { kind: 'not_found' }
  | { kind: 'not_valid' }
  | { kind: 'error'; message: string };

export function checkedIn(body: CheckedIn): ScanResult {
  return { kind: 'checked_in', holderName: body.holderName, seat: body.seat, at: body.checkedInAt };
}

/** The check-in route's refusals by their problem code; anything else is an error message. */
export function refused(problem: unknown, response?: Response): ScanResult {
  if (isProblem(problem)) {
    if (problem.code === 'ALREADY_CHECKED_IN') {
      const at = typeof problem.checkedInAt === 'string' ? problem.checkedInAt : null;
      return { kind: 'already', at };
    }
    if (problem.code === 'TICKET_NOT_FOUND') return { kind: 'not_found' };
    if (problem.code === 'TICKET_NOT_VALID') return { kind: 'not_valid' };
  }
  return { kind: 'error', message: problemMessage(problem, response) };
}

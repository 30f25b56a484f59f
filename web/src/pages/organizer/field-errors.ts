import { isProblem } from '../../api/problems';

/** Messages by the API's field path (`name`, `sections.0.rows.2.seats`): the form shows each by its field. */
export type FieldErrors = Record<string, string>;

/** The per-field errors of a 400 VALIDATION_FAILED problem, keyed as the form keys its own. */
export function fieldErrorsOf(problem: unknown): FieldErrors {
  if (!isProblem(problem) || !Array.isArray(problem.errors)) return {};
  const errors: FieldErrors = {};
  for (const { field, message } of problem.errors) errors[field] ??= message;
  return errors;
}

/** The messages no field of the form shows (so the summary above the form says them). */
export function unplacedErrors(errors: FieldErrors, placed: (field: string) => boolean): string[] {
  return Object.entries(errors)
    .filter(([field]) => !placed(field))
    .map(([field, message]) => `${field} ${message}`);
}

/** After a refused save, the first field with a message takes the focus. */
export function focusFirstInvalid(form: HTMLFormElement): void {
  requestAnimationFrame(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}

/** The summary above a form while its own checks still find something. */
export const FIX_FIELDS = 'Some fields need another look: see the messages below.';

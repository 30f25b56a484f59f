/** "Section A, row 1, seat 3": how a seat is called on screen and to a screen reader. */
export function seatPlace(section: string, row: string, number: number): string {
  return `Section ${section}, row ${row}, seat ${number}`;
}

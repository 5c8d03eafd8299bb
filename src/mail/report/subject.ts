import { type ReportDefinition } from '../../config';
import { type ReportMessage } from './reader';

const SEPARATOR = ' · ';

/** The email's subject: the definition's title and the period it covers. */
export function reportSubject(title: string, periodLabel: string): string {
  return `${title}${SEPARATOR}${periodLabel}`;
}

/**
 * A report this definition sent earlier (same title prefix, same recipients). It sits in Sent
 * Items of the very mailbox being measured; counting it would make the report change its own figures.
 */
export function isOwnReport(
  message: ReportMessage,
  definition: Pick<ReportDefinition, 'title' | 'recipients'>,
): boolean {
  if (message.direction !== 'sent' || !message.subject.startsWith(definition.title + SEPARATOR)) {
    return false;
  }
  const to = new Set(message.to.map((r) => r.address.toLowerCase()));
  const expected = new Set(definition.recipients.map((r) => r.toLowerCase()));
  return to.size === expected.size && [...expected].every((address) => to.has(address));
}

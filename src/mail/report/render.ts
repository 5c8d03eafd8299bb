import { type ReportDefinition } from '../../config';
import { type Logger } from '../../core/logger';
import { type CredentialKey } from '../../credentials/types';
import { type GraphFactory } from '../../graph/client';
import { reportCsv } from './csv';
import { renderReportHtml } from './html';
import { periodBefore } from './period';
import { readMailbox } from './reader';
import { computeFigures, type ReportFigures } from './stats';
import { reportSubject } from './subject';

export interface RenderedReport {
  definition: ReportDefinition;
  figures: ReportFigures;
  subject: string;
  html: string;
  csv: string;
  csvName: string;
}

export interface RenderOptions {
  graph: Pick<GraphFactory<CredentialKey>, 'forCredential'>;
  /** When the report is made (epoch ms): its period is the whole days before. */
  at: number;
  /** Held in memory for one report at most; beyond it the report says it covers the newest mail. */
  maxMessages: number;
  abortSignal?: AbortSignal | undefined;
  log: Logger;
}

export function credentialOf(definition: ReportDefinition): CredentialKey {
  return { serviceId: definition.serviceId, credentialId: definition.credentialId };
}

/** Reads the period's mail of the definition's mailbox and renders it: subject, HTML and CSV. */
export async function renderReport(
  definition: ReportDefinition,
  options: RenderOptions,
): Promise<RenderedReport> {
  const { at } = options;
  const period = periodBefore(at, definition.periodDays, definition.timeZone);
  const graph = await options.graph.forCredential(credentialOf(definition), {
    abortSignal: options.abortSignal,
    log: options.log,
  });
  const snapshot = await readMailbox(graph, {
    folders: definition.folders,
    start: period.start,
    end: period.end,
    sentUntil: at,
    maxMessages: options.maxMessages,
  });
  const figures = computeFigures(snapshot, { definition, period, now: at });
  const first = period.days[0]!;
  const last = period.days[period.days.length - 1]!;
  const csvName = `${definition.id}-${first}_${last}.csv`;
  return {
    definition,
    figures,
    subject: reportSubject(definition.title, figures.periodLabel),
    html: renderReportHtml(figures, { csvName }),
    csv: reportCsv(figures),
    csvName,
  };
}

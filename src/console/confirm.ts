// The page every destructive action shows first: what it is done to, what will
// be lost, and one button that posts it (CSRF-protected) — or the way back.
import type { Context } from 'koa';
import type { Message } from '../ui/catalogue.ts';
import { renderConsole, type ConsoleDeps, type Section } from './context.ts';

export interface Confirmation {
  section: Section;
  heading: Message;
  /** What is lost, a line each. */
  losses: Message[];
  button: Message;
  /** Where the form posts. */
  action: string;
  /** Where "Cancel" goes, and where the change comes back to. */
  back: string;
}

export function renderConfirmation(deps: ConsoleDeps, ctx: Context, c: Confirmation): void {
  renderConsole(deps, ctx, 'confirm', c.section, { ...c, returnTo: c.back });
}

// Element lookup and the page's two message areas: #alert for failures, #notice for feedback.
import { type Action, errorCode, readableError } from "./messages.js";

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

export function alertError(error: unknown, action?: Action): void {
  const alert = $("alert");
  alert.textContent = readableError(error, action);
  alert.dataset.code = errorCode(error) ?? "PAGE";
  alert.hidden = false;
}

export function clearAlert(): void {
  $("alert").hidden = true;
}

/** A short-lived message that something happened or was refused (not an error of the server). */
export function notify(text: string, ms = 8000): void {
  const notice = $("notice");
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, ms);
}

/** Said by screen readers only: a change that the page already shows (the window ended, say). */
export function announce(text: string): void {
  $("announce").textContent = text;
}

export function clearNotice(): void {
  clearTimeout(noticeTimer);
  $("notice").hidden = true;
}

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A unique key for one money request, reused on retries of the same request (api.md §8). */
export function newIdempotencyKey(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

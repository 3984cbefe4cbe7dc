/**
 * A small Markdown → HTML renderer for our own documents (the agent skill, seller onboarding, the
 * score formula), so each has one source and two renderings. It covers what those documents use —
 * front matter (dropped), headings, paragraphs, flat lists, tables, fenced code, rules, inline code,
 * bold, emphasis and links — and escapes all text: raw HTML in a source shows as text.
 */
import { escapeHtml, type Html, raw } from './html.ts';

const SAFE_LINK = /^(https?:\/\/|\/|#)/i;

/** Inline markup of one line of text (code spans first, so nothing inside them is interpreted). */
export function inline(text: string): string {
  return text
    .split(/(`+)(.+?)\1/)
    .map((part, i) => {
      // split() with two groups yields [text, fence, code, text, fence, code, …].
      if (i % 3 === 1) return '';
      if (i % 3 === 2) return `<code>${escapeHtml(part)}</code>`;
      return escapeHtml(part)
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (whole, label: string, href: string) => (SAFE_LINK.test(href) ? `<a href="${href}">${label}</a>` : whole))
        .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
        .replace(/(^|[^\w*])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])/g, '$1<em>$2</em>')
        .replace(/(^|[^\w])_([^_\s](?:[^_]*[^_\s])?)_(?!\w)/g, '$1<em>$2</em>');
    })
    .join('');
}

/** A heading's anchor id: lowercase words joined by dashes. */
export const slugId = (text: string) =>
  text
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-|-$/g, '');

const LIST_ITEM = /^\s*([-*]|\d+\.)\s+(.*)$/;
const TABLE_SEPARATOR = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/;

const cells = (row: string) =>
  row
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim());

function isBlockStart(line: string, next: string | undefined): boolean {
  return /^#{1,6}\s/.test(line) || /^```/.test(line) || LIST_ITEM.test(line) || /^(-{3,}|\*{3,})\s*$/.test(line) || (line.startsWith('|') && next !== undefined && TABLE_SEPARATOR.test(next));
}

/**
 * Renders a document; its `#` heading is the page's h1.
 *
 * @example renderMarkdown('# Title\n\nSome `code`.') // <h1 id="title">Title</h1><p>Some <code>code</code>.</p>
 */
export function renderMarkdown(source: string): Html {
  let lines = source.replace(/\r\n?/g, '\n').split('\n');
  if (lines[0] === '---') {
    const end = lines.indexOf('---', 1);
    if (end > 0) lines = lines.slice(end + 1);
  }
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '') {
      i++;
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*$/.exec(line);
    if (heading) {
      const level = (heading[1] as string).length;
      const text = heading[2] as string;
      out.push(`<h${level} id="${escapeHtml(slugId(text))}">${inline(text)}</h${level}>`);
      i++;
      continue;
    }
    if (/^```/.test(line)) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i] as string)) body.push(lines[i++] as string);
      i++;
      out.push(`<pre><code>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    if (/^(-{3,}|\*{3,})\s*$/.test(line)) {
      out.push('<hr>');
      i++;
      continue;
    }
    if (line.startsWith('|') && i + 1 < lines.length && TABLE_SEPARATOR.test(lines[i + 1] as string)) {
      const head = cells(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && (lines[i] as string).trim().startsWith('|')) rows.push(cells(lines[i++] as string));
      out.push(
        `<div class="table-wrap" tabindex="0" role="region" aria-label="${escapeHtml(`Table: ${head.map((c) => c.replace(/[`*_]/g, '')).join(', ')}`)}"><table><thead><tr>${head.map((c) => `<th scope="col">${inline(c)}</th>`).join('')}</tr></thead><tbody>${rows
          .map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table></div>`,
      );
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /\d/.test((item[1] as string)[0] as string);
      const items: string[] = [];
      while (i < lines.length) {
        const m = LIST_ITEM.exec(lines[i] as string);
        // A list ends where the other kind of list starts.
        if (!m || /\d/.test((m[1] as string)[0] as string) !== ordered) break;
        let text = m[2] as string;
        i++;
        // Continuation lines are indented (or plain text directly below, "lazy" Markdown).
        while (i < lines.length && (lines[i] as string).trim() !== '' && !LIST_ITEM.test(lines[i] as string) && !isBlockStart((lines[i] as string).trim(), lines[i + 1])) {
          text += ` ${(lines[i] as string).trim()}`;
          i++;
        }
        items.push(`<li>${inline(text)}</li>`);
        if (i < lines.length && (lines[i] as string).trim() === '' && i + 1 < lines.length && LIST_ITEM.test(lines[i + 1] as string)) i++;
      }
      const tag = ordered ? 'ol' : 'ul';
      out.push(`<${tag}>${items.join('')}</${tag}>`);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && (lines[i] as string).trim() !== '' && (para.length === 0 || !isBlockStart(lines[i] as string, lines[i + 1]))) para.push((lines[i++] as string).trim());
    out.push(`<p>${inline(para.join(' '))}</p>`);
  }
  return raw(out.join('\n'));
}

/**
 * Escaping text for XML and HTML, shared by the charts, the legends and the pages.
 *
 * @module
 */

/**
 * Escapes text for XML and HTML content and attribute values.
 *
 * @example
 * ```ts
 * escapeXml(`a < b & "c"`); // "a &lt; b &amp; &quot;c&quot;"
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}

const XML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * A Docker image reference (`ubuntu:22.04`, `registry:5000/team/train:v2@sha256:…`), by the
 * grammar of distribution/reference. Checked before an engine sees one: the engine answers a
 * path it would not normalise (`a//b`, `x/../y`) with a redirect, which its client cannot follow.
 */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const DOMAIN = `(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

export function isImageReference(text: string): boolean {
  return REFERENCE.test(text);
}

/** What an image reference looks like, for messages. */
export const IMAGE_REFERENCE_EXPECTED =
  'an image reference like ubuntu:22.04 or registry.example.com/team/train:v2 (lowercase names, an optional :tag or @sha256:digest)';

/** Opening a store: a freshly opened one whose first step fails is closed, not leaked. */
export async function readyOrClosed<T extends { close(): Promise<void> }>(
  resource: T,
  step: (resource: T) => Promise<void>,
): Promise<T> {
  try {
    await step(resource);
  } catch (err) {
    await resource.close();
    throw err;
  }
  return resource;
}
